// createExtractor and validateSelector: exact values from HTMLRewriter (workerd only; the
// mutation config runs this file in its workerd project).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExtractor, type Extracted, validateSelector } from '../../src/fetch/extract';
import { fetchPage } from '../../src/fetch/fetch-page';
import { scanHtml } from '../../src/fetch/scan-html';

/** What createExtractor gets from `html`, fed in the given pieces (one chunk each). */
async function extract(
  html: string | string[],
  selectors: Record<string, string> = {},
): Promise<Extracted> {
  const pieces = typeof html === 'string' ? [html] : html;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(new TextEncoder().encode(p));
      controller.close();
    },
  });
  const extractor = createExtractor(selectors);
  const res = new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  await extractor.rewriter.transform(res).arrayBuffer();
  return extractor.result();
}

const field = async (html: string | string[], sel = 'p'): Promise<string | null | undefined> =>
  (await extract(html, { f: sel })).data?.f;

describe('validateSelector', () => {
  it('calls a blank selector empty', () => {
    expect(validateSelector('')).toBe('empty selector');
    expect(validateSelector('  \t')).toBe('empty selector');
  });

  it("gives HTMLRewriter's reason without its prefix", () => {
    expect(validateSelector('a[')).toBe('Unexpected end of selector.');
    expect(validateSelector('a:hover')).toBe(
      'Unsupported pseudo-class or pseudo-element in selector.',
    );
  });
});

describe('createExtractor: the title', () => {
  it('takes the first title', async () => {
    expect(await extract('<title>one</title><title>two</title>')).toMatchObject({ title: 'one' });
    expect(await extract('<title></title><title>two</title>')).toMatchObject({ title: '' });
  });

  it('is null without one, and gives the link count and no data without selectors', async () => {
    expect(await extract('<p>x</p><a href=1><a>')).toEqual({ title: null, links: 1, data: null });
  });

  it('joins a title that arrives in pieces', async () => {
    expect((await extract(['<title>a', 'b c', ' d</title>'])).title).toBe('ab c d');
  });
});

describe('createExtractor: selector fields', () => {
  it('takes the text of the first match only, up to its end tag', async () => {
    expect(await extract('<p>one</p> between <p>two</p>', { f: 'p' })).toEqual({
      title: null,
      links: 0,
      data: { f: 'one' },
    });
  });

  it('joins nested text, keeping the space between pieces', async () => {
    expect(await field('<p>a<b> c</b><i>d</i> </p>')).toBe('a cd');
    expect(await field('<p> <b>a</b> <i> b </i></p>')).toBe('a b');
  });

  it('is null without a match and empty for a void element', async () => {
    expect(await extract('<p>x</p>', { none: 'h1', img: 'img' })).toMatchObject({
      data: { none: null, img: null },
    });
    expect(await extract('<img class=x><p>after</p>', { img: 'img' })).toMatchObject({
      data: { img: '' },
    });
  });

  it('keeps several fields apart', async () => {
    const out = await extract('<h1>Head</h1><p class=a>A</p><p class=b>B</p>', {
      h: 'h1',
      a: 'p.a',
      b: 'p.b',
    });
    expect(out.data).toEqual({ h: 'Head', a: 'A', b: 'B' });
  });

  it('cuts the title at 2,000 code units', async () => {
    const a = (n: number): string => 'a'.repeat(n);
    expect((await extract(`<title>${a(60_000)}</title>`)).title).toBe(a(2_000));
    expect((await extract(`<title>${a(1_999)}b</title>`)).title).toBe(`${a(1_999)}b`);
  });

  it('cuts a field at 2,000 code units, never inside a surrogate pair', async () => {
    const a = (n: number): string => 'a'.repeat(n);
    expect(await field(`<p>${a(2_000)}</p>`)).toBe(a(2_000));
    expect(await field(`<p>${a(2_001)}</p>`)).toBe(a(2_000));
    expect(await field(`<p>${a(1_999)} bb</p>`)).toBe(a(1_999));
    expect(await field(`<p>${a(1_999)}\u{1F600}b</p>`)).toBe(a(1_999));
    expect(await field(`<p>${a(1_998)}\u{1F600}b</p>`)).toBe(`${a(1_998)}\u{1F600}`);
    // The edges of the high-surrogate range: U+10000 starts with D800, U+10FFFF with DBFF.
    expect(await field(`<p>${a(1_999)}\u{10000}b</p>`)).toBe(a(1_999));
    expect(await field(`<p>${a(1_999)}\u{10FFFF}b</p>`)).toBe(a(1_999));
    expect(await field(`<p>${a(1_999)}\ud7ffb</p>`)).toBe(`${a(1_999)}\ud7ff`);
    expect(await field(`<p>${a(1_998)}\u{10000}b</p>`)).toBe(`${a(1_998)}\u{10000}`);
  });

  it('decodes character references once', async () => {
    expect(await field('<p>&amp;lt; &eacute;</p>')).toBe('&lt; \u00e9');
  });
});

describe('scanHtml agrees with HTMLRewriter on the edge cases of scan-html.test.ts', () => {
  const pages = [
    '<a\fhref=1><a\rhref=2><a\nhref=3>',
    '<a x = "y>z" href>',
    '<Z x="<a href=1>"><[ x="<a href=2>">',
    '</a href=1><a href=2>',
    '<!--><a href=1><!---><a href=2>',
    '<!-- a > <a href=1> --><a href=2>',
    '<b></3<a href=1>',
    '<xmp><a href=1></xmp><a href=2>',
    '<title>a <!-- b --> <a href=1></title><a href=2>',
    '<a href=1><a href="x>',
  ];
  for (const html of pages) {
    it(`on ${JSON.stringify(html)}`, async () => {
      const { title, links } = await extract(html);
      const scanned = scanHtml(html);
      expect({ title: scanned?.title, links: scanned?.links }).toEqual({ title, links });
    });
  }
});

describe('fetchPage: HTML through the rewriter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('extracts selector fields from a small page', async () => {
    const page = '<title>T</title><h1>Head</h1><a href=1>';
    vi.spyOn(globalThis, 'fetch').mockImplementation(
      async () =>
        new Response(page, {
          headers: { 'content-type': 'text/html', 'content-length': `${page.length}` },
        }),
    );
    const out = await fetchPage({
      url: 'http://page.test/',
      timeoutMs: 5_000,
      maxBytes: 1_000,
      selectors: { h: 'h1', none: 'h2' },
    });
    expect(out).toMatchObject({ ok: true, title: 'T', links: 1, data: { h: 'Head', none: null } });
  });

  it('streams a page whose length is unknown or unusable', async () => {
    for (const length of [null, '-1', '1.5', 'abc', '9007199254740993']) {
      const page = '<title>Streamed</title><a href=1>';
      let bodyRead = 0;
      vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
        const headers: Record<string, string> = { 'content-type': 'text/html' };
        if (length !== null) headers['content-length'] = length;
        return new Response(page, { headers });
      });
      const out = await fetchPage({
        url: 'http://page.test/',
        timeoutMs: 5_000,
        maxBytes: 1e17,
        selectors: {},
        onBodyRead: () => bodyRead++,
      });
      expect({ length, out }).toMatchObject({
        length,
        out: { ok: true, title: 'Streamed', links: 1, bytes: page.length },
      });
      // Only a page read whole tells that its body is in.
      expect({ length, bodyRead }).toEqual({ length, bodyRead: 0 });
      vi.restoreAllMocks();
    }
  });
});
