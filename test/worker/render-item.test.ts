// A shard's page of a rendering job (src/shard/render-item.ts) against the local origin, with a
// stand-in for the job's renderer: which pages go to it, what is asked of it, and an abort or a
// failing renderer ending the page at once.
import { describe, expect, it } from 'vitest';
import type { PageRequest } from '../../src/fetch/fetch-page';
import type { RenderRequest, RenderResult, RenderSpec } from '../../src/render/protocol';
import { type RenderPort, renderedPage } from '../../src/shard/render-item';
import { origin, originStats, tag } from '../support/api';

const SPEC: RenderSpec = {
  mode: 'always',
  waitUntil: 'load',
  waitForSelector: null,
  blockResources: true,
};

function requests(path: string, mode: RenderSpec['mode'], signal?: AbortSignal) {
  const url = origin(path);
  const fetch: PageRequest = {
    url,
    timeoutMs: 5_000,
    maxBytes: 5_000_000,
    selectors: { heading: 'h1' },
    links: true,
    signal,
  };
  const render: RenderRequest = {
    jobId: 'j0test',
    url,
    timeoutMs: 5_000,
    maxBytes: 5_000_000,
    render: { ...SPEC, mode },
    tabs: 2,
    allowPrivate: true,
    userAgent: 'TestBot/1.0',
    headers: {},
  };
  return { fetch, render };
}

/** A renderer that answers every page with `html` (after `ms`), and remembers what it was asked. */
function renderer(html: string, ms = 0): RenderPort & { asked: RenderRequest[] } {
  const asked: RenderRequest[] = [];
  return {
    asked,
    async render(req): Promise<RenderResult> {
      asked.push(req);
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      return {
        ok: true,
        finalUrl: req.url,
        status: 200,
        contentType: 'text/html; charset=utf-8',
        etag: null,
        lastModified: null,
        html,
        renderMs: 77,
      };
    },
  };
}

const BUILT =
  '<title>Built</title><h1>Built</h1><a href="/page?n=0">0</a><a href="/page?n=1">1</a>';

describe('renderedPage', () => {
  it('always: renders without fetching, and the Result is the rendered page', async () => {
    const t = tag('always');
    const port = renderer(BUILT);
    const { fetch, render } = requests(`/page?title=Static&tag=${t}`, 'always');
    const out = await renderedPage(fetch, render, port);
    expect(out).toMatchObject({
      ok: true,
      title: 'Built',
      links: 2,
      data: { heading: 'Built' },
      linkUrls: [origin('/page?n=0'), origin('/page?n=1')],
      rendered: true,
      renderMs: 77,
    });
    expect(port.asked).toEqual([render]);
    expect((await originStats(t)).requests).toBe(0);
  });

  it('auto: a script-built page is rendered, a static one kept as fetched', async () => {
    const port = renderer(BUILT);
    const built = requests('/script-page?title=Built&links=2', 'auto');
    expect(await renderedPage(built.fetch, built.render, port)).toMatchObject({
      ok: true,
      title: 'Built',
      rendered: true,
    });
    expect(port.asked.map((r) => r.url)).toEqual([built.render.url]);

    const plain = requests('/page?title=Static&links=3', 'auto');
    const out = await renderedPage(plain.fetch, plain.render, port);
    expect(out).toMatchObject({ ok: true, title: 'Static', links: 3, rendered: false });
    expect('scriptBuilt' in out).toBe(false);
    expect(port.asked).toHaveLength(1);
  });

  it('auto: a failed fetch or a body that is not HTML is not rendered', async () => {
    const port = renderer(BUILT);
    for (const path of ['/status/404', '/text']) {
      const { fetch, render } = requests(path, 'auto');
      const out = await renderedPage(fetch, render, port);
      expect(out.ok && out.rendered, path).toBe(false);
    }
    expect(port.asked).toEqual([]);
  });

  it('auto: the fetch is not conditional (a 304 would carry another job’s fields forward)', async () => {
    const t = tag('cond');
    const { fetch, render } = requests(`/versioned/rend?tag=${t}`, 'auto');
    const current = { ...fetch, ifNoneMatch: '"rend-v1"' };
    const out = await renderedPage(current, render, renderer(BUILT));
    expect(out).toMatchObject({ ok: true, status: 200, notModified: false, etag: '"rend-v1"' });
  });

  it('ends a render in flight as cancelled when the run is aborted, without waiting', async () => {
    const abort = new AbortController();
    const { fetch, render } = requests('/page', 'always', abort.signal);
    const never: RenderPort = { render: () => new Promise<RenderResult>(() => undefined) };
    const pending = renderedPage(fetch, render, never);
    abort.abort(new Error('job cancelled'));
    expect(await pending).toMatchObject({
      ok: false,
      kind: 'cancelled',
      message: 'cancelled: job cancelled',
      retryAfter: null,
    });
  });

  it('is a network failure (retried) when the renderer cannot be called', async () => {
    const { fetch, render } = requests('/page', 'always');
    const broken: RenderPort = { render: () => Promise.reject(new Error('object reset')) };
    expect(await renderedPage(fetch, render, broken)).toMatchObject({
      ok: false,
      kind: 'network',
      message: 'renderer failed: object reset',
    });
    expect(await renderedPage(fetch, render, undefined)).toMatchObject({
      ok: false,
      kind: 'network',
    });
  });
});
