// scanHtml (the JS fast path of extraction) on its own: exact titles and link counts for the
// tokenizer's edge cases. extract.test.ts checks that it agrees with HTMLRewriter; this file
// pins the values, so that a change to code both share cannot pass unnoticed.
import { describe, expect, it } from 'vitest';
import { scanHtml } from '../../src/fetch/scan-html';

const links = (html: string): number | undefined => scanHtml(html)?.links;
const title = (html: string): string | null | undefined => scanHtml(html)?.title;

describe('scanHtml: the title', () => {
  it('decodes, collapses and trims it', () => {
    expect(scanHtml('<title>  Tom &amp;\n\t Jerry \f\r </title>')).toEqual({
      title: 'Tom & Jerry',
      links: 0,
      data: null,
    });
    expect(title('<title>a\nb</title>')).toBe('a b');
    expect(title('<title>a  \n  b</title>')).toBe('a b');
    expect(title('<title>trailing </title>')).toBe('trailing');
    expect(title('<title>a&#32;&#32;b</title>')).toBe('a b');
  });

  it('is null without a title and empty for an empty one', () => {
    expect(title('<p>no title</p>')).toBeNull();
    expect(title('<title></title>')).toBe('');
    expect(title('')).toBeNull();
  });

  it('takes the first title only', () => {
    expect(title('<title>one</title><title>two</title>')).toBe('one');
  });

  it('is cut at 2,000 code units, counted after decoding, never inside a surrogate pair', () => {
    const a = (n: number): string => 'a'.repeat(n);
    expect(title(`<title> ${a(60_000)}b</title>`)).toBe(a(2_000));
    expect(title(`<title>${a(1_999)}b</title>`)).toBe(`${a(1_999)}b`);
    expect(title(`<title>${'&amp;'.repeat(3_000)}</title>`)).toBe('&'.repeat(2_000));
    expect(title(`<title>${a(1_999)}\u{1F600}</title>`)).toBe(a(1_999));
  });

  it('reads RCDATA: markup and comments in a title are text', () => {
    expect(scanHtml('<title>a <!-- b --> <a href=1></title><a href=2>')).toEqual({
      title: 'a <!-- b --> <a href=1>',
      links: 1,
      data: null,
    });
  });

  it('runs an unclosed title to the end of the input', () => {
    expect(title('<title>never closed <a href=1>')).toBe('never closed <a href=1>');
  });
});

describe('scanHtml: links', () => {
  it('counts <a> start tags with an href attribute, in any case', () => {
    expect(links('<a href=1><A HREF="2"><a Href><a x href=y>')).toBe(4);
    expect(links('<a><a name=x><a hrefx=1><a x-href=1><abbr href=1><b href>')).toBe(0);
  });

  it('skips end tags, even with attributes', () => {
    expect(links('</a href=1>')).toBe(0);
    // Parsed as a tag, not skipped to the first >: its quoted attribute hides the link.
    expect(links('</a x="><a href=1>">')).toBe(0);
    expect(links('</title><a href=1>')).toBe(1);
  });

  it('ends tag names and attributes at any tag whitespace, / or >', () => {
    expect(links('<a\thref><a\nhref><a\fhref><a\rhref><a href><a/href>')).toBe(6);
    expect(links('<a\n\f\r\thref>')).toBe(1);
  });

  it('skips whitespace around = and quoted values with > inside', () => {
    expect(links('<a x = "y>z" href>')).toBe(1);
    expect(links("<a x =\n\f\r'y>z' href>")).toBe(1);
    expect(links('<a x\n=\r"y>z"\fhref>')).toBe(1);
    expect(links('<a x=y>z href>')).toBe(0);
  });

  it('starts a tag only at < and a letter', () => {
    expect(links('xa href=1>')).toBe(0);
    expect(links('/<a href=1>')).toBe(1);
    for (const letter of ['A', 'Z', 'a', 'z']) {
      expect({ letter, links: links(`<${letter} x="<a href=1>">`) }).toEqual({ letter, links: 0 });
    }
    for (const other of ['@', '[', '`', '{', '3']) {
      expect({ other, links: links(`<${other} x="<a href=1>">`) }).toEqual({ other, links: 1 });
    }
    expect(links('<3 <a href=1>')).toBe(1);
  });

  it('gives up on a tag cut off by the end of the input', () => {
    expect(links('<a href=1><a href')).toBe(1);
    expect(links('<a href=1><abc')).toBe(1);
    expect(links('<a href=1><a href="x')).toBe(1);
    expect(links('<a href=1><a href="x>')).toBe(1);
    expect(links('<a href=1><')).toBe(1);
    expect(links('<a href=1></')).toBe(1);
  });
});

describe('scanHtml: comments, doctypes and bogus comments', () => {
  it('ends a comment at the first --> or --!>', () => {
    expect(links('<!-- a > <a href=1> --><a href=2>')).toBe(1);
    expect(links('<!-- x --!><a href=1>--><a href=2>')).toBe(2);
    expect(links('<!-- x --><a href=1>--!><a href=2>')).toBe(2);
    expect(links('--><!-- x --><a href=1>')).toBe(1);
    expect(links('--!><!-- x --!><a href=1>')).toBe(1);
  });

  it('ends the abrupt comments <!--> and <!---> at once', () => {
    expect(links('<!--><a href=1><!-- x --><a href=2>')).toBe(2);
    expect(links('<!---><a href=1><!-- x --><a href=2>')).toBe(2);
  });

  it('runs an unclosed comment to the end of the input', () => {
    expect(links('<a href=1><!-- <a href=2>')).toBe(1);
  });

  it('ends doctypes and bogus comments at the next >', () => {
    expect(links('<!doctype html><a href=1>')).toBe(1);
    expect(links('<!x <a href=1><a href=2>')).toBe(1);
    expect(links('<? <a href=1><a href=2>')).toBe(1);
    expect(links('</3 <a href=1><a href=2>')).toBe(1);
    expect(links('<b></3<a href=1>')).toBe(0);
    expect(links('>x</3<a href=1>')).toBe(0);
    expect(links('</><a href=1>')).toBe(1);
  });

  it('runs an unclosed doctype or bogus comment to the end of the input', () => {
    expect(links('<a href=1><!doctype html')).toBe(1);
    expect(links('<a href=1></3 <a href=2')).toBe(1);
  });
});

describe('scanHtml: text elements', () => {
  it('skips markup inside each RCDATA and RAWTEXT element', () => {
    for (const name of ['textarea', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'script']) {
      const html = `<${name}><a href=1></${name}><a href=2>`;
      expect({ name, links: links(html) }).toEqual({ name, links: 1 });
    }
  });

  it('ends a text element only at its own end tag', () => {
    expect(links('<style></styles><a href=1></style\n><a href=2>')).toBe(1);
    expect(links('<style></STYLE/><a href=1>')).toBe(1);
  });

  it('leaves a script holding <!-- to HTMLRewriter, but not a style', () => {
    expect(scanHtml('<script>x<!--y</script>')).toBeNull();
    expect(links('<style><!-- x --></style><a href=1>')).toBe(1);
  });
});
