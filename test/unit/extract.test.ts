// Selector validation and the JS fast path of extraction: no origin, no bindings.
import { describe, expect, it } from 'vitest';
import { createExtractor, validateSelector } from '../../src/fetch/extract';
import { scanHtml } from '../../src/fetch/scan-html';
import { FIXTURES } from '../origin/fixtures';

describe('validateSelector', () => {
  it('accepts selectors HTMLRewriter supports', () => {
    for (const sel of ['h1', '.price', 'div > p', 'a[href^="/"]', 'p:nth-child(2)', 'h1, h2']) {
      expect(validateSelector(sel)).toBeNull();
    }
  });

  it('explains what is wrong with the others', () => {
    expect(validateSelector('')).toBe('empty selector');
    expect(validateSelector('a[')).toMatch(/end of selector/i);
    expect(validateSelector('a:hover')).toMatch(/unsupported pseudo-class/i);
    expect(validateSelector('div:has(p)')).toMatch(/unsupported/i);
  });
});

describe('scanHtml (the JS fast path) agrees with HTMLRewriter', () => {
  /** The default extraction of `html` by HTMLRewriter. */
  async function viaRewriter(html: string): Promise<{ title: string | null; links: number }> {
    const extractor = createExtractor({});
    const res = new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } });
    await extractor.rewriter.transform(res).arrayBuffer();
    const { title, links } = extractor.result();
    return { title, links };
  }

  const pages: Record<string, string> = {
    // Every fixture but two-titles, whose <svg> scanHtml leaves to HTMLRewriter.
    ...Object.fromEntries(
      Object.entries(FIXTURES)
        .filter(([name]) => name !== 'two-titles')
        .map(([name, f]) => [name, f.body]),
    ),
    attributes: `<a title="x>y" href=1><a title='<a href=2>' x><a data-x=">" HREF><a href
      =q><a =href><a hrefx=1><a x=href><a/href/><a\thref>`,
    comments: `<!----><a href=1><!---><a href=2><!-- x --!><a href=3><!-- <a href=4> --->
      <!-x><a href=5><? <a href=6> ><!DOCTYPE html "<a href=7>"><![CDATA[<a href=8>]]>
      </ <a href=9>></><a href=10></a x="<a href=11>">`,
    rawtext: `<style>
      <a href=1></style ><a href=2><xmp></xmp><a href=3><iframe><a href=4></iframe/><a href=5>
      <noembed><a href></noembed><noframes><a href></noframes><textarea><a href></TEXTAREA>
      <script type="x">if (a</b) "<a href=x>"</script><a href=6><script/></scriptx></script>`,
    titles: `<title>  A &amp;\n b </title ><title>second</title><a href><TITLE>x</title>`,
    emptyTitle: '<title></title><title>second</title>',
    unclosedTitle: '<title>never &lt; closed <a href=1>',
    truncatedTag: '<title>t</title><a href=1><a href=2',
    titleInBody: '<body><p>x</p><title>late</title><a href=1></body>',
    bom: '\ufeff<title>bom</title><a href=1>',
  };

  for (const [name, html] of Object.entries(pages)) {
    it(`on ${name}`, async () => {
      const scanned = scanHtml(html);
      expect(scanned).not.toBeNull();
      expect({ title: scanned?.title, links: scanned?.links }).toEqual(await viaRewriter(html));
    });
  }

  it('leaves foreign content, escaped scripts, noscript, select and plaintext to HTMLRewriter', () => {
    for (const html of [
      '<svg><title>t</title></svg>',
      '<math><mi>x</mi></math>',
      '<script><!-- <script></script> --></script>',
      '<noscript><a href=1></noscript>',
      '<select><style><a href=1></style></select>',
      '<plaintext><a href=1>',
    ]) {
      expect(scanHtml(html)).toBeNull();
    }
  });
});
