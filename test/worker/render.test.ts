// `render` through the jobs API against the local origin: `/script-page` is an HTML shell
// ("Not rendered", no links) whose inline script writes the title, an <h1> and the links; only
// a browser sees them. Skipped where the local Chromium is not set up, except under CI (as
// test/worker/browser-binding.test.ts).
import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import type { Result } from '../../src/jobs/types';
import { toHex } from '../../src/lib/hex';
import { rendererFor } from '../../src/render/renderer-pool';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';
import { sleep } from '../support/time';

const EXTRACT = { selectors: { heading: 'h1', second: 'li:nth-child(2) a' }, links: true };

/** The Results of a job of `urls` run to its end, by URL. */
async function run(urls: string[], fields: Record<string, unknown>): Promise<Map<string, Result>> {
  const { id } = await submit({ urls, extract: EXTRACT, timeoutMs: 20_000, ...fields });
  const view = await waitForJob(id, 60_000);
  expect(view.status).toBe('completed');
  return new Map((await allResults(id)).map((r) => [r.url, r]));
}

function resultOf(results: Map<string, Result>, url: string): Result {
  const r = results.get(url);
  if (!r) throw new Error(`no Result for ${url}`);
  return r;
}

/** The fields a page's content gives. */
function content(r: Result) {
  const { title, links, data, linkUrls, meta } = r;
  return { title, links, data, linkUrls, meta };
}

const scriptPage = (t: string, title = 'Built by script') =>
  origin(`/script-page?title=${encodeURIComponent(title)}&links=3&tag=${t}`);

const BUILT_LINKS = [origin('/page?n=0'), origin('/page?n=1'), origin('/page?n=2')];

describe.skipIf(!inject('browserTests'))('render', () => {
  it('true: the title, links, selectors and linkUrls are the rendered DOM’s', async () => {
    const t = tag('render-true');
    const url = scriptPage(t);
    const r = resultOf(await run([url], { render: true }), url);
    expect(r).toMatchObject({
      ok: true,
      status: 200,
      title: 'Built by script',
      links: 3,
      data: { heading: 'Built by script', second: 'Link 1' },
      linkUrls: BUILT_LINKS,
      rendered: true,
      attempts: 1,
      error: null,
    });
    expect(r.renderMs).toEqual(expect.any(Number));
    expect(r.durationMs).toBe(r.renderMs);
    expect(r.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Rendered, never fetched on its own.
    expect((await originStats(t)).paths).toEqual({ '/script-page': 1 });
  });

  it('false (the default): the static shell', async () => {
    const t = tag('render-false');
    const url = scriptPage(t);
    for (const fields of [{}, { render: false }, { render: { mode: false } }]) {
      const r = resultOf(await run([url], fields), url);
      expect(r, JSON.stringify(fields)).toMatchObject({
        ok: true,
        title: 'Not rendered',
        links: 0,
        data: { heading: null, second: null },
        linkUrls: [],
        rendered: false,
        renderMs: null,
      });
    }
  });

  it('"auto": renders the script-built page and not the static one, and `rendered` tells', async () => {
    const t = tag('render-auto');
    const built = scriptPage(t);
    const plain = origin(`/page?title=Static&links=3&tag=${t}`);
    const results = await run([built, plain], { render: 'auto' });
    expect(resultOf(results, built)).toMatchObject({
      ok: true,
      title: 'Built by script',
      links: 3,
      linkUrls: BUILT_LINKS,
      rendered: true,
    });
    expect(resultOf(results, plain)).toMatchObject({
      ok: true,
      title: 'Static',
      links: 3,
      data: { heading: 'Static', second: 'Link 1' },
      rendered: false,
      renderMs: null,
    });
    // The script-built page fetched, then rendered; the static one fetched only.
    expect((await originStats(t)).paths).toEqual({ '/script-page': 2, '/page': 1 });
  });

  it('the object form: waitForSelector waits for what the script writes late', async () => {
    const t = tag('render-wait');
    const url = origin(`/script-page?title=Late&links=1&after=300&tag=${t}`);
    const render = { mode: true, waitUntil: 'domcontentloaded', waitForSelector: 'h1' };
    const r = resultOf(await run([url], { render }), url);
    expect(r).toMatchObject({ ok: true, title: 'Late', links: 1, rendered: true });
  });

  it('extracts the same from a static page fetched and the same page rendered', async () => {
    const t = tag('render-same');
    const urls = [
      origin(`/page?title=${encodeURIComponent('Same & same')}&links=4&tag=${t}`),
      origin(`/fixture/meta?tag=${t}`),
      origin(`/fixture/links?tag=${t}`),
    ];
    const fields = { extract: { ...EXTRACT, meta: true } };
    const fetched = await run(urls, fields);
    const rendered = await run(urls, { ...fields, render: true });
    for (const url of urls) {
      expect(resultOf(rendered, url).rendered, url).toBe(true);
      expect(content(resultOf(rendered, url)), url).toEqual(content(resultOf(fetched, url)));
    }
  });

  it('store.bodies keeps the rendered HTML under the Result’s contentHash', async () => {
    const t = tag('render-store');
    const url = scriptPage(t, 'Stored render');
    const { id } = await submit({ urls: [url], render: true, store: { bodies: true } });
    await waitForJob(id, 60_000);
    const [r] = await allResults(id);
    expect(r).toMatchObject({ ok: true, rendered: true, title: 'Stored render' });
    const hex = r?.contentHash?.slice('sha256:'.length);
    const res = await api(`/v1/jobs/${id}/bodies/${hex}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<h1>Stored render</h1>');
    const utf8 = new TextEncoder().encode(html);
    expect(`sha256:${toHex(await crypto.subtle.digest('SHA-256', utf8))}`).toBe(r?.contentHash);
    expect(utf8.byteLength).toBe(r?.bytes);
  });

  it('a render that fails is a failed Result of its kind', async () => {
    const t = tag('render-fail');
    const missing = origin(`/status/404?tag=${t}`);
    const failed = await run([missing], { render: true, retry: { maxAttempts: 1 } });
    expect(resultOf(failed, missing)).toMatchObject({
      ok: false,
      status: 404,
      rendered: false,
      renderMs: null,
      error: { kind: 'http_status', message: 'HTTP 404' },
    });
    const never = origin(`/script-page?title=Never&tag=${t}`);
    const render = { mode: true, waitForSelector: '#never-there' };
    const { id } = await submit({
      urls: [never],
      render,
      timeoutMs: 1_500,
      retry: { maxAttempts: 1 },
    });
    await waitForJob(id, 60_000);
    expect(await allResults(id)).toMatchObject([
      { url: never, ok: false, rendered: false, error: { kind: 'timeout' } },
    ]);
  });

  it('cancel ends renders in flight at once', async () => {
    const t = tag('render-cancel');
    const urls = [0, 1].map((i) => origin(`/script-page?title=Held&i=${i}&tag=${t}`));
    const { id } = await submit({
      urls,
      render: { mode: true, waitForSelector: '#never-there' },
      renderConcurrency: 2,
      timeoutMs: 60_000,
    });
    for (let i = 0; i < 300 && ((await originStats(t)).paths['/script-page'] ?? 0) < 2; i++) {
      await sleep(50);
    }
    expect((await originStats(t)).paths['/script-page']).toBe(2);
    const started = Date.now();
    const res = await api(`/v1/jobs/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const view = await waitForJob(id, 10_000);
    expect(view.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);
    const results = await allResults(id);
    expect(results.map((r) => r.error?.kind)).toEqual(['cancelled', 'cancelled']);
    // The renders themselves were stopped (their tabs closed), not left to their timeout.
    const renderer = rendererFor(env, id);
    let status = await renderer.status();
    for (let i = 0; i < 100 && status.jobs.includes(id); i++) {
      await sleep(50);
      status = await renderer.status();
    }
    expect(status.jobs).not.toContain(id);
  });
});
