// extract.links and extract.meta against the real local origin: fetchPage on both of its
// reading paths (whole, streamed), then through the jobs API into stored Results.
import { describe, expect, it } from 'vitest';
import { fetchPage, type PageOutcome } from '../../src/fetch/fetch-page';
import type { PageMeta } from '../../src/jobs/types';
import { allResults, api, origin, submit, waitForJob } from '../support/api';
import { hangingJob } from '../support/hanging-job';

const O = origin('');

/** The outcome of `path` on the origin with links and meta asked for; it must be ok. */
async function page(path: string): Promise<Extract<PageOutcome, { ok: true }>> {
  const out = await fetchPage({
    url: origin(path),
    timeoutMs: 5_000,
    maxBytes: 5_000_000,
    selectors: {},
    links: true,
    meta: true,
  });
  if (!out.ok) throw new Error(`${path}: ${out.kind}: ${out.message}`);
  return out;
}

const LINKS_FIXTURE = [
  `${O}/docs/guide/intro`,
  `${O}/docs/api?x=1&y=2`,
  `${O}/root`,
  'http://cdn.test/lib',
  'https://example.test/a%20b',
  `${O}/docs/guide/`,
  `${O}/docs/guide/?q=caf%C3%A9`,
  `${O}/docs/guide/?a=1&copy=2`,
];

const META_FIXTURE: PageMeta = {
  description: 'A page & its description: \u00e9t\u00e9',
  canonical: `${O}/canonical/page?x=1`,
  ogTitle: 'An "OG" title',
  lang: 'en-GB',
};

/** A Result's fields, in their order: the new ones sit after `data`. */
const RESULT_KEYS = [
  'url',
  'finalUrl',
  'ok',
  'status',
  'contentType',
  'title',
  'links',
  'bytes',
  'attempts',
  'durationMs',
  'fetchedAt',
  'data',
  'linkUrls',
  'meta',
  'rendered',
  'renderMs',
  'etag',
  'lastModified',
  'contentHash',
  'notModified',
  'changed',
  'error',
];

const NO_META: PageMeta = { description: null, canonical: null, ogTitle: null, lang: null };

// ?chunk=7 sends no Content-Length: the body is streamed through the rewriter.
for (const [how, query] of [
  ['read whole', ''],
  ['streamed', '?chunk=7'],
] as const) {
  describe(`fetchPage with links and meta, ${how}`, () => {
    it('resolves against the first <base href>, drops fragments, duplicates and non-http(s)', async () => {
      const out = await page(`/fixture/links${query}`);
      expect(out.linkUrls).toEqual(LINKS_FIXTURE);
      expect(out.links).toBe(16);
      expect(out.meta).toEqual(NO_META);
    });

    it('resolves links and the canonical URL before a late <base> against the page URL', async () => {
      const out = await page(`/fixture/late-base${query}`);
      expect(out.linkUrls).toEqual([`${O}/fixture/a`, 'https://other.test/x/b']);
      expect(out.meta).toEqual({ ...NO_META, canonical: `${O}/fixture/c` });
    });

    it('reads the first description, og:title, canonical and <html lang>', async () => {
      const out = await page(`/fixture/meta${query}`);
      expect(out.meta).toEqual(META_FIXTURE);
      expect(out.linkUrls).toEqual([`${O}/x`]);
      expect(out.title).toBe('Meta');
    });

    it('gives null metadata fields for a page without them', async () => {
      const out = await page(`/fixture/no-title${query}`);
      expect(out.meta).toEqual(NO_META);
      expect(out.linkUrls).toEqual([`${O}/a`, `${O}/b`]);
    });

    it('reads links in the page encoding (windows-1251 by header)', async () => {
      const out = await page(`/fixture/windows-1251${query}`);
      expect(out.linkUrls).toEqual([`${O}/x`]);
      expect(out.title).toBe('\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440');
    });
  });
}

describe('fetchPage: a page of 1,500 links', () => {
  it('keeps the first 1,000 distinct URLs and counts all', async () => {
    const out = await page('/page?links=1500');
    expect(out.links).toBe(1500);
    expect(out.linkUrls).toEqual(Array.from({ length: 1000 }, (_, i) => `${O}/page?n=${i}`));
  });
});

describe('fetchPage: what was not asked for, or not parsed', () => {
  it('gives null linkUrls and meta when not asked', async () => {
    const out = await fetchPage({
      url: origin('/fixture/links'),
      timeoutMs: 5_000,
      maxBytes: 5_000_000,
      selectors: {},
    });
    expect(out).toMatchObject({ ok: true, title: 'Links', links: 16, linkUrls: null, meta: null });
  });

  it('gives no links and empty metadata for a body that is not HTML', async () => {
    const out = await page('/text');
    expect(out).toMatchObject({ links: 0, linkUrls: [], meta: NO_META });
  });
});

describe('POST /v1/jobs with extract.links and extract.meta', () => {
  it('stores linkUrls and meta in each Result, null for a failure', async () => {
    const urls = [
      origin('/fixture/links'),
      origin('/fixture/meta'),
      origin('/text'),
      origin('/status/404'),
    ];
    const job = await submit({
      urls,
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      extract: { links: true, meta: true },
    });
    expect((await waitForJob(job.id)).status).toBe('completed');
    const byUrl = new Map((await allResults(job.id)).map((r) => [r.url, r]));
    const pick = (u: string) => {
      const r = byUrl.get(u);
      return { linkUrls: r?.linkUrls, meta: r?.meta, data: r?.data };
    };
    expect(pick(origin('/fixture/links'))).toEqual({
      linkUrls: LINKS_FIXTURE,
      meta: NO_META,
      data: null,
    });
    expect(pick(origin('/fixture/meta'))).toEqual({
      linkUrls: [`${O}/x`],
      meta: META_FIXTURE,
      data: null,
    });
    expect(pick(origin('/text'))).toEqual({ linkUrls: [], meta: NO_META, data: null });
    expect(pick(origin('/status/404'))).toEqual({ linkUrls: null, meta: null, data: null });
  });

  it('gives linkUrls and meta null when not asked, next to selector fields', async () => {
    const url = origin('/fixture/meta');
    const job = await submit({ urls: [url], extract: { selectors: { t: 'title' } } });
    await waitForJob(job.id);
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({ url, ok: true, data: { t: 'Meta' }, linkUrls: null, meta: null });
    expect(Object.keys(r ?? {})).toEqual(RESULT_KEYS);
  });

  it('gives them null in Results settled without a fetch, in the same field order', async () => {
    const { id } = await hangingJob(5, 1, { extract: { links: true, meta: true } });
    expect((await api(`/v1/jobs/${id}`, { method: 'DELETE' })).status).toBe(200);
    await waitForJob(id);
    const results = await allResults(id);
    expect(results).toHaveLength(5);
    for (const r of results) {
      expect(r).toMatchObject({ ok: false, linkUrls: null, meta: null });
      expect(Object.keys(r)).toEqual(RESULT_KEYS);
    }
  });

  it('refuses extract fields of the wrong type, and unknown ones, naming them', async () => {
    for (const [extract, path, message] of [
      [{ links: 'yes' }, 'extract.links', /expected boolean/i],
      [{ meta: 1 }, 'extract.meta', /expected boolean/i],
      [{ link: true }, 'extract', /unknown field\(s\) link/],
    ] as const) {
      const res = await api('/v1/jobs', {
        method: 'POST',
        body: JSON.stringify({ urls: [origin('/page')], extract }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as {
        error: { details: { path: string; message: string }[] };
      };
      expect(body.error.details[0]?.path).toBe(path);
      expect(body.error.details[0]?.message).toMatch(message);
    }
  });
});
