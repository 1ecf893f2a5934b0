// The Renderer Durable Object driven through its RPC, against the local origin, with the local
// Browser Rendering binding (skipped without the local Chromium, except under CI: see
// browser-binding.test.ts). One instance of its own for this file, so that other tests' jobs
// (routed to browser-N) never share its browser; its tests run in order, and the browser it
// launches first serves them all until the test that ends a job mid-render closes it.

import { env } from 'cloudflare:workers';
import puppeteer from '@cloudflare/puppeteer';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { origin, originStats, tag } from '../support/api';
import { eventually, renderRequest, sessionProcesses } from '../support/render';

const renderer = env.RENDERER.getByName('renderer-test');
/** Jobs this file rendered for: ended at the end, which closes the browser. */
const jobs = new Set<string>();

function jobFor(name: string): string {
  const jobId = tag(name);
  jobs.add(jobId);
  return jobId;
}

afterAll(async () => {
  for (const jobId of jobs) await renderer.endJob(jobId);
});

describe.skipIf(!inject('browserTests'))('the Renderer', () => {
  it('renders what a script builds, with the job User-Agent and headers', async () => {
    const t = tag('render');
    const jobId = jobFor('render');
    const page = `/script-page?title=${encodeURIComponent('Built <&> by script')}&links=3&tag=${t}`;
    const result = await renderer.render(renderRequest(origin(page), { jobId }));
    expect(result).toMatchObject({
      ok: true,
      finalUrl: origin(page),
      status: 200,
      contentType: 'text/html; charset=utf-8',
      etag: null,
      lastModified: null,
    });
    if (!result.ok) return;
    expect(result.html).toContain('<title>Built &lt;&amp;&gt; by script</title>');
    expect(result.html).toContain('<a href="/page?n=2">Link 2</a>');
    expect(result.renderMs).toBeGreaterThanOrEqual(0);

    const echo = `/echo-headers?h=x-job,user-agent&tag=${t}`;
    const headers = { 'X-Job': 'job header' };
    const echoed = await renderer.render(
      renderRequest(origin(echo), { jobId, headers, userAgent: 'render-agent/2' }),
    );
    expect(echoed.ok && echoed.html).toContain(
      '<title>user-agent=render-agent/2;x-job=job header</title>',
    );
  });

  it('answers blocked_target for a private first URL while private targets are blocked, fetching nothing', async () => {
    const t = tag('blocked');
    const url = origin(`/page?tag=${t}`);
    const result = await renderer.render(
      renderRequest(url, { jobId: jobFor('blocked'), allowPrivate: false }),
    );
    expect(result).toMatchObject({
      ok: false,
      kind: 'blocked_target',
      message: `blocked target: ${url}`,
    });
    expect((await originStats(t)).requests).toBe(0);
  });

  it('blockResources keeps images from the origin; scripts and fetches still load', async () => {
    const t = tag('resources');
    const jobId = jobFor('resources');
    const img = encodeURIComponent(`/image.png?tag=${t}`);
    const fetched = encodeURIComponent(`/fetched?tag=${t}`);
    const url = origin(`/script-page?title=Heavy&img=${img}&fetch=${fetched}&tag=${t}`);
    // networkidle0: the page's fetch has been answered when the render ends.
    const render = { waitUntil: 'networkidle0' as const };
    const blocked = await renderer.render(renderRequest(url, { jobId, render }));
    expect(blocked.ok).toBe(true);
    expect((await originStats(t)).paths).toEqual({ '/script-page': 1, '/fetched': 1 });

    const t2 = tag('resources-on');
    const url2 = origin(`/script-page?title=Heavy&img=${img.replace(t, t2)}&tag=${t2}`);
    const loaded = await renderer.render(
      renderRequest(url2, { jobId, render: { ...render, blockResources: false } }),
    );
    expect(loaded.ok).toBe(true);
    expect((await originStats(t2)).paths).toEqual({ '/script-page': 1, '/image.png': 1 });
  });

  it('dismisses a dialog that would hold the page’s script', async () => {
    const t = tag('dialog');
    const url = origin(`/script-page?title=After&alert=${encodeURIComponent('Hello?')}&tag=${t}`);
    const result = await renderer.render(
      renderRequest(url, { jobId: jobFor('dialog'), timeoutMs: 5_000 }),
    );
    expect(result.ok && result.html).toContain('<title>After</title>');
  });

  it('holds a job to its tabs: six pages with tabs 2 are never more than two at the origin', async () => {
    const t = tag('tabs');
    const jobId = jobFor('tabs');
    const pages = Array.from({ length: 6 }, (_, n) => origin(`/delay?ms=300&n=${n}&tag=${t}`));
    const results = await Promise.all(
      pages.map((url) => renderer.render(renderRequest(url, { jobId, tabs: 2 }))),
    );
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true, true]);
    const stats = await originStats(t);
    expect(stats.requests).toBe(6);
    expect(stats.maxInFlight).toBe(2);
  });

  it('fails like a fetch: HTTP status, too large, a redirect loop, a refused connection', async () => {
    const t = tag('fails');
    const jobId = jobFor('fails');
    const missing = await renderer.render(renderRequest(origin(`/status/404?tag=${t}`), { jobId }));
    expect(missing).toMatchObject({ ok: false, kind: 'http_status', message: 'HTTP 404' });
    expect(missing.ok ? null : missing.status).toBe(404);

    const big = await renderer.render(
      renderRequest(origin(`/page?title=Big&links=50&tag=${t}`), { jobId, maxBytes: 200 }),
    );
    expect(big).toMatchObject({ ok: false, kind: 'too_large', status: 200 });

    const loop = await renderer.render(renderRequest(origin(`/loop/a?tag=${t}`), { jobId }));
    expect(loop).toMatchObject({ ok: false, kind: 'redirect_loop' });

    // Nothing listens on 127.0.0.9.
    const closed = `http://127.0.0.9:${new URL(origin('/')).port}/`;
    const refused = await renderer.render(renderRequest(closed, { jobId }));
    expect(refused).toMatchObject({ ok: false, kind: 'network', status: null });
    expect(refused.ok ? '' : refused.message).toContain('ERR_CONNECTION_REFUSED');
  });

  it('waits for a selector the script adds late, and times out on one that never comes', async () => {
    const t = tag('selector');
    const jobId = jobFor('selector');
    const late = origin(`/script-page?title=Late&links=2&after=300&tag=${t}`);
    const found = await renderer.render(
      renderRequest(late, { jobId, render: { waitForSelector: 'ul a' } }),
    );
    expect(found.ok && found.html).toContain('<a href="/page?n=1">Link 1</a>');

    const missing = await renderer.render(
      renderRequest(late, { jobId, timeoutMs: 1_500, render: { waitForSelector: '#never' } }),
    );
    expect(missing).toMatchObject({
      ok: false,
      kind: 'timeout',
      message: 'render timed out after 1500 ms waiting for selector "#never"',
      status: 200,
    });
  });

  it('times out on a page that never finishes loading', async () => {
    const t = tag('hang');
    // Its image never answers, so the page never reaches `load`.
    const url = origin(
      `/script-page?title=Stuck&img=${encodeURIComponent(`/hang?tag=${t}`)}&tag=${t}`,
    );
    const result = await renderer.render(
      renderRequest(url, {
        jobId: jobFor('hang'),
        timeoutMs: 1_500,
        render: { blockResources: false },
      }),
    );
    expect(result).toMatchObject({
      ok: false,
      kind: 'timeout',
      message: 'render timed out after 1500 ms',
    });
    // The tab was closed: the hanging request was given up.
    const stats = await eventually(
      () => originStats(t),
      (s) => s.inFlight === 0,
    );
    expect(stats.paths).toEqual({ '/script-page': 1, '/hang': 1 });
    expect(stats.inFlight).toBe(0);
  });

  it('replaces a browser that went away for the next page', async () => {
    const jobId = jobFor('relaunch');
    const first = await renderer.render(
      renderRequest(origin(`/page?tag=${tag('relaunch')}`), { jobId }),
    );
    expect(first.ok).toBe(true);
    const before = (await renderer.status()).sessionId;
    expect(before).not.toBeNull();
    // Closed from outside, as a crash would end it; the renderer sees its connection go.
    const outside = await puppeteer.connect(env.BROWSER, before ?? '');
    await outside.close();
    const gone = await eventually(
      () => renderer.status(),
      (s) => s.sessionId === null,
    );
    expect(gone.sessionId).toBeNull();

    const next = await renderer.render(
      renderRequest(origin(`/page?tag=${tag('relaunch')}`), { jobId }),
    );
    expect(next).toMatchObject({ ok: true });
    const after = (await renderer.status()).sessionId;
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
  });

  it('endJob cancels a render in flight, closes the browser and leaves no process', async () => {
    const t = tag('end');
    const jobId = jobFor('end');
    const pending = renderer.render(
      renderRequest(origin(`/hang?tag=${t}`), { jobId, timeoutMs: 60_000 }),
    );
    await eventually(
      () => originStats(t),
      (s) => s.inFlight === 1,
    );
    const status = await renderer.status();
    expect(status).toMatchObject({ tabs: 1, jobs: [jobId] });
    const sessionId = status.sessionId ?? '';

    await renderer.endJob(jobId);
    expect(await pending).toMatchObject({
      ok: false,
      kind: 'cancelled',
      message: 'cancelled: the job ended',
    });
    expect(await renderer.status()).toEqual({ sessionId: null, tabs: 0, waiting: 0, jobs: [] });
    const left = await eventually(
      () => sessionProcesses(sessionId),
      (n) => n === null || n === 0,
    );
    if (left !== null) expect(left).toBe(0);
    const sessions = await puppeteer.sessions(env.BROWSER);
    expect(sessions.map((s) => s.sessionId)).not.toContain(sessionId);

    // A page of the ended job sent late opens no browser and reaches nothing.
    const late = await renderer.render(renderRequest(origin(`/page?tag=${t}`), { jobId }));
    expect(late).toMatchObject({ ok: false, kind: 'cancelled' });
    expect((await renderer.status()).sessionId).toBeNull();
    expect((await originStats(t)).paths).toEqual({ '/hang': 1 });
  });

  it('endJob drops the pages of the job that wait for a tab', async () => {
    const t = tag('waiting');
    const jobId = jobFor('waiting');
    const pages = Array.from({ length: 3 }, (_, n) => origin(`/hang?n=${n}&tag=${t}`));
    const pending = pages.map((url) =>
      renderer.render(renderRequest(url, { jobId, tabs: 1, timeoutMs: 60_000 })),
    );
    // The first has its tab and is at the origin; the other two wait for a tab.
    await eventually(
      () => originStats(t),
      (s) => s.inFlight === 1,
    );
    expect(await renderer.status()).toMatchObject({ tabs: 1, waiting: 2, jobs: [jobId] });
    await renderer.endJob(jobId);
    const results = await Promise.all(pending);
    expect(results.map((r) => !r.ok && r.kind)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await originStats(t)).requests).toBe(1);
    expect((await renderer.status()).sessionId).toBeNull();
  });
});
