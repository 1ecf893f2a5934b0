// The SSRF guard of rendered pages, end to end in the local browser. Every host of the local
// origin is loopback, so the deployment's rule (`blockedTarget`) would refuse the pages
// themselves; here the very code the Renderer runs (BrowserSession, renderPage) is given a rule
// under which 127.0.0.3 is the private address and 127.0.0.1 a public site. What the origin
// counts per host tells whether a request got out. (The Renderer's own choice of rule, and a
// private first URL under the real one, are tested in renderer.test.ts.)

import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BrowserSession } from '../../src/render/browser-session';
import type { RenderRequest, RenderResult } from '../../src/render/protocol';
import { renderPage } from '../../src/render/render-page';
import { origin, originStats, tag } from '../support/api';
import { eventually, renderRequest } from '../support/render';

const PRIVATE = '127.0.0.3';
const isBlocked = (url: URL) => url.hostname === PRIVATE;
const JOB = 'render-guard-test';

let session: BrowserSession | undefined;

/** Renders as the Renderer does, in the guarded browser of this file. */
async function render(req: RenderRequest, guarded = true): Promise<RenderResult> {
  if (!session) throw new Error('no browser');
  const open = session;
  const openPage = async () => (await open.context(JOB)).newPage();
  const signal = new AbortController().signal;
  return renderPage(openPage, req, { isBlocked: guarded ? isBlocked : undefined, signal });
}

/** Requests the origin saw under `t` from the private host. */
async function privateRequests(t: string): Promise<number> {
  const stats = await originStats(t);
  return Object.entries(stats.byHost)
    .filter(([host]) => host.startsWith(`${PRIVATE}:`))
    .reduce((n, [, h]) => n + h.requests, 0);
}

const blockedUrl = (path: string) => origin(path, PRIVATE);
const q = encodeURIComponent;

describe.skipIf(!inject('browserTests'))('the render guard', () => {
  beforeAll(async () => {
    session = await BrowserSession.launch(env.BROWSER, () => undefined);
    await session.guard(isBlocked);
  });
  afterAll(async () => {
    await session?.close();
  });

  it('aborts a script-loaded image and XHR to a private address; the page still renders', async () => {
    const t = tag('guard-sub');
    const img = blockedUrl(`/image.png?tag=${t}`);
    const xhr = blockedUrl(`/xhr?tag=${t}`);
    const page = `/script-page?title=Guarded&links=1&img=${q(img)}&fetch=${q(xhr)}&tag=${t}`;
    const result = await render(
      renderRequest(origin(page), { render: { blockResources: false, waitUntil: 'networkidle0' } }),
    );
    expect(result.ok && result.html).toContain('<title>Guarded</title>');
    // networkidle0: both requests were made (and refused) before the render ended.
    expect(await privateRequests(t)).toBe(0);
    expect((await originStats(t)).paths).toEqual({ '/script-page': 1 });
  });

  it('sends the job headers through both interceptions, credentials only to the first origin', async () => {
    const t = tag('guard-headers');
    const headers = { 'X-Job': 'job header', Authorization: 'Bearer secret' };
    const echo = (host: string) => origin(`/echo-headers?h=x-job,authorization&tag=${t}`, host);
    const same = await render(renderRequest(echo('127.0.0.1'), { headers }));
    expect(same.ok && same.html).toContain(
      '<title>authorization=Bearer secret;x-job=job header</title>',
    );
    // Redirected to another origin: the job's headers go along, its credentials do not.
    const away = origin(`/redirect?to=${q(echo('127.0.0.4'))}&tag=${t}`);
    const other = await render(renderRequest(away, { headers }));
    expect(other.ok && other.html).toContain('<title>authorization=;x-job=job header</title>');
  });

  it('answers blocked_target when a script navigates the page to a private address', async () => {
    const t = tag('guard-go');
    const to = blockedUrl(`/page?title=Inside&tag=${t}`);
    const result = await render(
      renderRequest(origin(`/script-page?title=Leaving&go=${q(to)}&tag=${t}`), {
        render: { waitForSelector: '#never' },
      }),
    );
    expect(result).toMatchObject({
      ok: false,
      kind: 'blocked_target',
      message: `blocked target: ${to}`,
      finalUrl: to,
    });
    expect(await privateRequests(t)).toBe(0);
  });

  it('answers blocked_target when a redirect leads to a private address', async () => {
    const t = tag('guard-redirect');
    const to = blockedUrl(`/page?tag=${t}`);
    const result = await render(renderRequest(origin(`/redirect?to=${q(to)}&tag=${t}`)));
    expect(result).toMatchObject({
      ok: false,
      kind: 'blocked_target',
      message: `blocked target: ${to}`,
    });
    expect((await originStats(t)).paths).toEqual({ '/redirect': 1 });
  });

  it('answers blocked_target for a private first URL without loading anything', async () => {
    const t = tag('guard-first');
    const url = blockedUrl(`/page?tag=${t}`);
    const result = await render(renderRequest(url));
    expect(result).toMatchObject({
      ok: false,
      kind: 'blocked_target',
      message: `blocked target: ${url}`,
    });
    expect((await originStats(t)).requests).toBe(0);
  });

  it("keeps a service worker's fetches from a private address (the browser-wide guard)", async () => {
    const t = tag('guard-sw');
    const allowed = origin(`/sw-allowed?tag=${t}`);
    const worker = `/sw.js?tag=${t}&fetch=${q(blockedUrl(`/sw-private?tag=${t}`))}&fetch=${q(allowed)}`;
    const result = await render(
      renderRequest(origin(`/script-page?title=Worker&sw=${q(worker)}&tag=${t}`)),
    );
    expect(result.ok).toBe(true);
    // The worker installs after the page rendered: once its public fetch is in, the private one
    // (started first) was tried.
    const stats = await eventually(
      () => originStats(t),
      (s) => s.paths['/sw-allowed'] === 1,
    );
    expect(stats.paths).toEqual({ '/script-page': 1, '/sw.js': 1, '/sw-allowed': 1 });
    expect(await privateRequests(t)).toBe(0);
  });

  it('closes popups as they open, and keeps them from private addresses', async () => {
    const t = tag('guard-popup');
    // The browser's own account of the targets: which pages were opened by a page, which ended.
    const watch = await session?.browser.target().createCDPSession();
    const opened = new Set<string>();
    const ended = new Set<string>();
    watch?.on(
      'Target.targetCreated',
      (e: { targetInfo: { targetId: string; openerId?: string } }) => {
        if (e.targetInfo.openerId) opened.add(e.targetInfo.targetId);
      },
    );
    watch?.on('Target.targetDestroyed', (e: { targetId: string }) => ended.add(e.targetId));
    await watch?.send('Target.setDiscoverTargets', { discover: true });
    try {
      const popup = blockedUrl(`/popup?tag=${t}`);
      const page = origin(`/script-page?title=Popups&open=${q(popup)}&tag=${t}`);
      // The whole result, so that a failed render names its kind and message.
      expect(await render(renderRequest(page))).toMatchObject({ ok: true });
      const closed = await eventually(
        async () => [...opened].filter((id) => ended.has(id)).length,
        (n) => n === 1,
      );
      expect([opened.size, closed]).toEqual([1, 1]);
      // Its request, had it gone out before, met the browser-wide guard.
      expect(await privateRequests(t)).toBe(0);
      expect((await originStats(t)).paths).toEqual({ '/script-page': 1 });
    } finally {
      await watch?.detach();
    }
  });

  it('gives a guarded page no WebSocket, and an unguarded one its WebSocket', async () => {
    const t = tag('guard-ws');
    const socket = origin(`/socket?tag=${t}`).replace('http:', 'ws:');
    const page = origin(`/script-page?title=Socket&ws=${q(socket)}&tag=${t}`);
    const guarded = await render(renderRequest(page));
    expect(guarded.ok).toBe(true);

    const t2 = tag('guard-ws-off');
    const unguarded = await render(renderRequest(page.replaceAll(t, t2)), false);
    expect(unguarded.ok).toBe(true);
    // The unguarded page's WebSocket reaches the origin; by then the guarded page, rendered
    // first, would have opened its own.
    const seen = await eventually(
      () => originStats(t2),
      (s) => s.paths['/socket'] === 1,
    );
    expect(seen.paths).toEqual({ '/script-page': 1, '/socket': 1 });
    expect((await originStats(t)).paths).toEqual({ '/script-page': 1 });
  });
});
