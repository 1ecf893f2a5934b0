// createExtractor's link list and page metadata on hand-made pages (real HTMLRewriter): the
// bounds, the base URL rules and the edges of each metadata field.
import { describe, expect, it } from 'vitest';
import {
  createExtractor,
  type Extracted,
  MAX_LINK_URL_CHARS,
  MAX_LINK_URLS,
  MAX_LINK_URLS_CHARS,
} from '../../src/fetch/extract';
import { parseJob } from '../../src/jobs/schema';

const PAGE = 'http://page.test/dir/page?q=1#frag';

/** What createExtractor gets from `html` (fed in pieces of `piece` characters). */
async function extract(
  html: string,
  extras: { links?: boolean; meta?: boolean } = { links: true, meta: true },
  piece = html.length,
): Promise<Extracted> {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < html.length; at += piece) {
        controller.enqueue(new TextEncoder().encode(html.slice(at, at + piece)));
      }
      controller.close();
    },
  });
  const extractor = createExtractor(
    {},
    { url: PAGE, links: extras.links ?? false, meta: extras.meta ?? false },
  );
  const res = new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  await extractor.rewriter.transform(res).arrayBuffer();
  return extractor.result();
}

const links = async (html: string): Promise<string[] | undefined> =>
  (await extract(html, { links: true })).linkUrls;
const meta = async (html: string) => (await extract(html, { meta: true })).meta;

/** An absolute URL of exactly `n` characters on host l.test. */
function urlOfLength(n: number, tag = 'a'): string {
  const start = `http://l.test/${tag}/`;
  return start + 'x'.repeat(n - start.length);
}

describe('createExtractor: what is asked for', () => {
  it('adds neither field without extras, and only the one asked for', async () => {
    const html = '<title>t</title><a href=/a>a</a><meta name=description content=d>';
    const bare = createExtractor({});
    await bare.rewriter.transform(new Response(html)).arrayBuffer();
    expect(bare.result()).toEqual({ title: 't', links: 1, data: null });
    expect(await extract(html, {})).toEqual({ title: 't', links: 1, data: null });
    expect(await extract(html, { links: true })).toEqual({
      title: 't',
      links: 1,
      data: null,
      linkUrls: ['http://page.test/a'],
    });
    expect(await extract(html, { meta: true })).toEqual({
      title: 't',
      links: 1,
      data: null,
      meta: { description: 'd', canonical: null, ogTitle: null, lang: null },
    });
  });
});

describe('createExtractor: linkUrls', () => {
  it('resolves against the page URL, dropping its query and fragment where a browser does', async () => {
    expect(
      await links('<a href="x"><a href="?b"><a href="#c"><a href=""><a href="../up">'),
    ).toEqual([
      'http://page.test/dir/x',
      'http://page.test/dir/page?b',
      'http://page.test/dir/page?q=1',
      'http://page.test/up',
    ]);
  });

  it('strips whitespace a URL parser strips, and percent-encodes what it encodes', async () => {
    expect(await links('<a href="\n /a\tb\n ">')).toEqual(['http://page.test/ab']);
    expect(await links('<a href="/caf\u00e9 x?y=\u00e9">')).toEqual([
      'http://page.test/caf%C3%A9%20x?y=%C3%A9',
    ]);
  });

  it('takes the first <base href> only, resolved against the page URL', async () => {
    expect(
      await links(
        '<base target=_top><base href="../other/"><base href="http://no.test/"><a href=x>',
      ),
    ).toEqual(['http://page.test/other/x']);
  });

  it('keeps the page URL when the first <base href> is no URL', async () => {
    expect(await links('<base href="http://[x"><base href="http://no.test/"><a href=x>')).toEqual([
      'http://page.test/dir/x',
    ]);
  });

  it('ignores a <base> in SVG, and keeps SVG links (counted like any <a href>)', async () => {
    const out = await extract('<svg><base href="http://no.test/"/><a href="s"/></svg><a href=t>', {
      links: true,
    });
    expect(out.linkUrls).toEqual(['http://page.test/dir/s', 'http://page.test/dir/t']);
    expect(out.links).toBe(2);
  });

  it('skips links a non-http(s) base turns into other schemes', async () => {
    expect(
      await links('<base href="ftp://files.test/"><a href=x><a href="https://w.test/">'),
    ).toEqual(['https://w.test/']);
  });

  it(`skips a URL over ${MAX_LINK_URL_CHARS} characters, and takes later ones`, async () => {
    const fits = urlOfLength(MAX_LINK_URL_CHARS, 'a');
    const over = urlOfLength(MAX_LINK_URL_CHARS + 1, 'b');
    expect(await links(`<a href="${over}"><a href="${fits}"><a href=/c>`)).toEqual([
      fits,
      'http://page.test/c',
    ]);
  });

  it(`stops at ${MAX_LINK_URLS} distinct URLs; repeats take no place`, async () => {
    let html = '<a href=/0><a href=/0#x><a href=/0>';
    for (let i = 1; i <= MAX_LINK_URLS + 5; i++) html += `<a href=/${i}><a href=/0>`;
    const out = await extract(html, { links: true }, 1000);
    expect(out.links).toBe(3 + 2 * (MAX_LINK_URLS + 5));
    expect(out.linkUrls).toEqual(
      Array.from({ length: MAX_LINK_URLS }, (_, i) => `http://page.test/${i}`),
    );
  });

  it(`stops when the next URL would pass ${MAX_LINK_URLS_CHARS} characters in all`, async () => {
    // 128 URLs fill the budget exactly; the 129th is one too many.
    const n = MAX_LINK_URLS_CHARS / MAX_LINK_URL_CHARS;
    expect(n).toBe(128);
    const long = Array.from({ length: n + 1 }, (_, i) => urlOfLength(MAX_LINK_URL_CHARS, `${i}`));
    const full = await extract(long.map((u) => `<a href="${u}">`).join(''), { links: true }, 4096);
    expect(full.linkUrls).toEqual(long.slice(0, n));
    // 48 characters left, too few for the next URL: the list ends there, though a short URL
    // after it would fit.
    const first = urlOfLength(MAX_LINK_URL_CHARS - 48, 'first');
    const html = [first, ...long.slice(1)].map((u) => `<a href="${u}">`).join('');
    const out = await extract(`${html}<a href=/short>`, { links: true }, 4096);
    expect(out.linkUrls).toEqual([first, ...long.slice(1, n)]);
    expect(out.links).toBe(n + 2);
  });
});

describe('createExtractor: meta', () => {
  const none = { description: null, canonical: null, ogTitle: null, lang: null };

  it('is all null for a page without metadata', async () => {
    expect(await meta('<title>x</title><meta charset=utf-8><link rel=stylesheet href=/s>')).toEqual(
      none,
    );
  });

  it('takes the first of each, in any case, across chunks', async () => {
    const html =
      '<html LANG="de"><html lang="fr"><meta NAME="DESCRIPTION" content="  one\n\t two  ">' +
      '<meta name=description content=second><meta property="og:type OG:Title" content="T &amp; U">' +
      '<link rel="CANONICAL" href="/c#keep"><link rel=canonical href=/second>';
    for (const piece of [html.length, 3]) {
      expect(await extract(html, { meta: true }, piece)).toMatchObject({
        meta: {
          description: 'one two',
          canonical: 'http://page.test/c#keep',
          ogTitle: 'T & U',
          lang: 'de',
        },
      });
    }
  });

  it('takes only a <meta> with content, but an empty content counts', async () => {
    expect(
      await meta(
        '<meta name=description><meta name=description content=""><meta name=description content=x>',
      ),
    ).toEqual({ ...none, description: '' });
  });

  it('takes the lang of a later <html> when the first has none; an empty one counts', async () => {
    expect(await meta('<html><html lang=" nl  BE "><html lang=fr>')).toEqual({
      ...none,
      lang: 'nl BE',
    });
    expect(await meta('<html lang=""><html lang=fr>')).toEqual({ ...none, lang: '' });
  });

  it('decodes references as in an attribute, and cuts values at 2,000 code units', async () => {
    expect(
      (await meta('<meta name=description content="a&copy=b &copy; &lt;">'))?.description,
    ).toBe('a&copy=b \u00a9 <');
    const long = `${'a'.repeat(1_999)}\u{1F600}b`;
    expect((await meta(`<meta property=og:title content="${long}">`))?.ogTitle).toBe(
      'a'.repeat(1_999),
    );
    const refs = '&eacute;'.repeat(3_000);
    expect((await meta(`<meta name=description content="${refs}">`))?.description).toBe(
      '\u00e9'.repeat(2_000),
    );
  });

  it('decides on the first canonical link: null when it is no http(s) URL or too long', async () => {
    expect(
      await meta('<link rel=canonical href="mailto:a@b.test"><link rel=canonical href=/x>'),
    ).toEqual(none);
    expect(await meta('<link rel=canonical href="http://[x"><link rel=canonical href=/x>')).toEqual(
      none,
    );
    const fits = urlOfLength(MAX_LINK_URL_CHARS);
    expect((await meta(`<link rel=canonical href="${fits}">`))?.canonical).toBe(fits);
    const over = urlOfLength(MAX_LINK_URL_CHARS + 1);
    expect((await meta(`<link rel=canonical href="${over}">`))?.canonical).toBeNull();
  });

  it('resolves the canonical link against the base in effect', async () => {
    expect(
      (await meta('<base href="https://b.test/x/"><link rel=canonical href="../c">'))?.canonical,
    ).toBe('https://b.test/c');
  });
});

describe('extract in POST /v1/jobs', () => {
  const limits = { maxUrls: 10, allowPrivate: true };
  const spec = (extract: unknown) => {
    const out = parseJob({ urls: ['http://a.test/'], extract }, limits);
    return out.ok ? out.spec.extract : out.issues;
  };

  it('defaults links and meta to false', () => {
    expect(spec(undefined)).toEqual({ selectors: {}, links: false, meta: false });
    expect(spec({})).toEqual({ selectors: {}, links: false, meta: false });
    expect(spec({ links: true })).toEqual({ selectors: {}, links: true, meta: false });
    expect(spec({ meta: true, selectors: { h: 'h1' } })).toEqual({
      selectors: { h: 'h1' },
      links: false,
      meta: true,
    });
  });

  it('takes booleans only, and no other field', () => {
    expect(spec({ links: 'true' })).toEqual([
      { path: 'extract.links', message: 'Invalid input: expected boolean, received string' },
    ]);
    expect(spec({ meta: null })).toEqual([
      { path: 'extract.meta', message: 'Invalid input: expected boolean, received null' },
    ]);
    expect(spec({ links: true, linkUrls: true })).toEqual([
      { path: 'extract', message: 'unknown field(s) linkUrls' },
    ]);
  });
});
