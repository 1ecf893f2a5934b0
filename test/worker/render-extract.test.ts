// One extraction for fetched and rendered pages: the same HTML fetched by fetchPage and handed
// over as a renderer's HTML string gives the same fields, and the "auto" signals of a fetch.
import { describe, expect, it } from 'vitest';
import { fetchPage, type PageOutcome, type PageRequest } from '../../src/fetch/fetch-page';
import { extractRendered, renderOutcome } from '../../src/fetch/render-outcome';
import { toHex } from '../../src/lib/hex';
import type { RenderResult } from '../../src/render/protocol';
import { origin } from '../support/api';

type Ok = Extract<PageOutcome, { ok: true }>;

const ASK = {
  timeoutMs: 5_000,
  maxBytes: 5_000_000,
  selectors: { heading: 'h1', para: 'p', missing: '.nope' },
  links: true,
  meta: true,
} satisfies Omit<PageRequest, 'url'>;

async function fetched(path: string, ask: Omit<PageRequest, 'url'> = ASK): Promise<Ok> {
  const out = await fetchPage({ url: origin(path), ...ask });
  if (!out.ok) throw new Error(`${path}: ${out.kind}: ${out.message}`);
  return out;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return `sha256:${toHex(digest)}`;
}

/** What both paths must agree on. */
const EXTRACTED = ['title', 'links', 'data', 'linkUrls', 'meta', 'bytes', 'contentHash'] as const;

function pick(o: Ok): Partial<Ok> {
  return Object.fromEntries(EXTRACTED.map((k) => [k, o[k]]));
}

// UTF-8 pages: the rendered HTML string is the body byte for byte. `?chunk=7` streams the fetch
// (no Content-Length); /page?links=9000 is over the size read whole.
const PAGES = [
  '/fixture/entities',
  '/fixture/tricky-links',
  '/fixture/no-title',
  '/fixture/two-titles',
  '/fixture/selectors',
  '/fixture/links',
  '/fixture/late-base',
  '/fixture/meta',
  '/fixture/meta?chunk=7',
  '/page?title=Plain&links=3',
  '/page?links=9000',
  '/script-page?title=Shell&links=2',
];

describe('extractRendered: the read path of a fetched body', () => {
  for (const path of PAGES) {
    it(`gives what fetchPage gives for ${path}`, async () => {
      const page = await fetched(path);
      const html = await (await fetch(origin(path))).text();
      const rendered = await extractRendered(html, page.finalUrl, ASK);
      const asOutcome = { ...rendered.extracted, bytes: rendered.bytes };
      expect({ ...pick(asOutcome as Ok), contentHash: rendered.contentHash }).toEqual(pick(page));
    });
  }

  it('agrees with the fast path of the default extraction too', async () => {
    const ask = { timeoutMs: 5_000, maxBytes: 5_000_000, selectors: {} };
    const page = await fetched('/fixture/entities', ask);
    const html = await (await fetch(origin('/fixture/entities'))).text();
    const rendered = await extractRendered(html, page.finalUrl, ask);
    expect(rendered.extracted).toEqual({ title: page.title, links: page.links, data: null });
    expect(rendered.contentHash).toBe(page.contentHash);
  });

  it('reads a page in another encoding from its decoded text, as the fetch decoded it', async () => {
    // A DOM serialised by the browser is text: its <meta charset> no longer applies.
    const page = await fetched('/fixture/windows-1251');
    const bytes = await (await fetch(origin('/fixture/windows-1251'))).arrayBuffer();
    const html = new TextDecoder('windows-1251').decode(bytes);
    const { extracted } = await extractRendered(html, page.finalUrl, ASK);
    expect(extracted).toMatchObject({ title: page.title, links: page.links });
    expect(extracted.linkUrls).toEqual(page.linkUrls);
  });

  it('counts and hashes the HTML as UTF-8, and refuses it past maxBytes', async () => {
    const html = '<title>Caf\u00e9 \u{1F600}</title><a href="/x">x</a>';
    const utf8 = new TextEncoder().encode(html).byteLength;
    const out = await extractRendered(html, 'http://a.test/p', { ...ASK, maxBytes: utf8 });
    expect(out).toMatchObject({ bytes: utf8, contentHash: await sha256(html) });
    expect(out.extracted).toMatchObject({ title: 'Caf\u00e9 \u{1F600}', links: 1 });
    expect(out.extracted.linkUrls).toEqual(['http://a.test/x']);
    await expect(
      extractRendered(html, 'http://a.test/p', { ...ASK, maxBytes: utf8 - 1 }),
    ).rejects.toMatchObject({ kind: 'too_large' });
  });
});

describe('renderOutcome', () => {
  const fetchedAt = '2026-12-01T00:00:00.000Z';
  const html = '<html lang="de"><title>Built</title><h1>Built \u00e9</h1><a href="/n#f">n</a>';
  const ok: RenderResult = {
    ok: true,
    finalUrl: 'http://a.test/final',
    status: 203,
    contentType: 'text/html; charset=iso-8859-1',
    etag: '"v1"',
    lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT',
    html,
    renderMs: 1234,
  };

  it('is the rendered page: its fields from the HTML, the rest from the render', async () => {
    const out = await renderOutcome(ok, { ...ASK, signals: true } as typeof ASK, fetchedAt);
    expect(out).toEqual({
      ok: true,
      finalUrl: 'http://a.test/final',
      status: 203,
      contentType: 'text/html; charset=iso-8859-1',
      title: 'Built',
      links: 1,
      data: { heading: 'Built \u00e9', para: null, missing: null },
      linkUrls: ['http://a.test/n'],
      meta: { description: null, canonical: null, ogTitle: null, lang: 'de' },
      bytes: new TextEncoder().encode(html).byteLength,
      etag: '"v1"',
      lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT',
      contentHash: await sha256(html),
      notModified: false,
      rendered: true,
      renderMs: 1234,
      durationMs: 1234,
      fetchedAt,
    });
  });

  it('gives null linkUrls and meta when they were not asked', async () => {
    const out = await renderOutcome(ok, { maxBytes: 1_000, selectors: {} }, fetchedAt);
    expect(out).toMatchObject({ ok: true, title: 'Built', data: null, linkUrls: null, meta: null });
  });

  it('is a failure as the renderer reported it', async () => {
    const failed: RenderResult = {
      ok: false,
      kind: 'http_status',
      message: 'HTTP 503',
      status: 503,
      finalUrl: 'http://a.test/final',
      renderMs: 40,
    };
    expect(await renderOutcome(failed, ASK, fetchedAt)).toEqual({
      ok: false,
      kind: 'http_status',
      message: 'HTTP 503',
      status: 503,
      finalUrl: 'http://a.test/final',
      contentType: null,
      bytes: 0,
      durationMs: 40,
      fetchedAt,
      retryAfter: null,
    });
  });

  it('is too_large when the rendered HTML is over maxBytes', async () => {
    const out = await renderOutcome(ok, { ...ASK, maxBytes: 10 }, fetchedAt);
    expect(out).toMatchObject({
      ok: false,
      kind: 'too_large',
      status: 203,
      finalUrl: 'http://a.test/final',
      contentType: 'text/html; charset=iso-8859-1',
      durationMs: 1234,
      retryAfter: null,
    });
  });
});

describe('fetchPage with signals (render: "auto")', () => {
  const ask = { timeoutMs: 5_000, maxBytes: 5_000_000, selectors: {}, signals: true };

  it('judges a script-built page, also one small enough for the fast path', async () => {
    const out = await fetched('/script-page?title=T&links=3', ask);
    expect(out.scriptBuilt).toBe('little-text');
    expect(out).toMatchObject({ title: 'Not rendered', links: 0, rendered: false, renderMs: null });
  });

  it('judges a page with text of its own static, streamed or read whole', async () => {
    for (const path of ['/fixture/meta', '/fixture/meta?chunk=7', '/page?links=9000']) {
      expect((await fetched(path, ask)).scriptBuilt, path).toBeNull();
    }
  });

  it('says nothing without signals, nor for a body that is not HTML', async () => {
    const plain = await fetched('/script-page?title=T', { ...ask, signals: false });
    expect('scriptBuilt' in plain).toBe(false);
    expect('scriptBuilt' in (await fetched('/text', ask))).toBe(false);
  });
});
