// The Browser Rendering binding (env.BROWSER, `[browser]` in wrangler.toml) as the tests'
// Miniflare serves it: a local Chromium (`npm run setup:browser`) driven through
// @cloudflare/puppeteer exactly as in a deployment. Skipped when that Chromium is not set up,
// except under CI (test/global-setup.ts). The origin's `/__processes` (Node side) tells whether a
// closed browser left any process behind: Miniflare names each browser's profile folder after
// its session id, which is on the command line of each of its processes (all but Chromium's two
// crash handlers, which end with it).

import { env } from 'cloudflare:workers';
import puppeteer, { type Browser, type HTTPRequest, type Page } from '@cloudflare/puppeteer';
import { describe, expect, inject, it } from 'vitest';
import { origin, originStats, tag } from '../support/api';
import { eventually } from '../support/render';

/** Processes of one browser session, by its profile folder (null: no /proc on this machine). */
async function sessionProcesses(sessionId: string): Promise<number | null> {
  const res = await fetch(
    origin(`/__processes?match=${encodeURIComponent(`profile-${sessionId}`)}`),
  );
  return ((await res.json()) as { count: number | null }).count;
}

/** The href of every link of the page, in document order. */
async function hrefs(page: Page): Promise<string[]> {
  const script = 'Array.from(document.querySelectorAll("a[href]"), (a) => a.getAttribute("href"))';
  return (await page.evaluate(script)) as string[];
}

/** Closes a browser a failed test left open (a passing test closes its own). */
async function closeQuietly(browser: Browser | undefined): Promise<void> {
  await browser?.close().catch(() => undefined);
}

describe.skipIf(!inject('browserTests'))('the Browser Rendering binding', () => {
  it('renders the title and links a script sets, and closing ends every process', async () => {
    const t = tag('render');
    const path = `/script-page?title=${encodeURIComponent('Rendered <&> title')}&links=3&tag=${t}`;
    // Without a browser the page has neither: its HTML is the shell.
    expect(await (await fetch(origin(path))).text()).toContain('<title>Not rendered</title>');

    let browser: Browser | undefined = await puppeteer.launch(env.BROWSER);
    try {
      const sessionId = browser.sessionId();
      const running = await sessionProcesses(sessionId);
      if (running !== null) expect(running).toBeGreaterThan(1);

      const page = await browser.newPage();
      const response = await page.goto(origin(path), { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('Rendered <&> title');
      expect(await hrefs(page)).toEqual(['/page?n=0', '/page?n=1', '/page?n=2']);
      expect(await page.content()).toContain('<h1>Rendered &lt;&amp;&gt; title</h1>');

      await browser.close();
      browser = undefined;
      const left = await eventually(
        () => sessionProcesses(sessionId),
        (n) => n === null || n === 0,
      );
      if (left !== null) expect(left).toBe(0);
      const sessions = await eventually(
        () => puppeteer.sessions(env.BROWSER),
        (list) => !list.some((s) => s.sessionId === sessionId),
      );
      expect(sessions.map((s) => s.sessionId)).not.toContain(sessionId);
    } finally {
      await closeQuietly(browser);
    }
  });

  it('intercepts every request: aborted subresources and redirects never reach the origin', async () => {
    const t = tag('intercept');
    const browser = await puppeteer.launch(env.BROWSER);
    try {
      const page = await browser.newPage();
      await page.setRequestInterception(true);
      const seen: Array<{ path: string; type: string; navigation: boolean }> = [];
      // Only the pages under /script-page and /redirect may load: everything else is aborted,
      // as a policy applied to each request would.
      page.on('request', (request: HTTPRequest) => {
        const url = new URL(request.url());
        const navigation = request.isNavigationRequest() && request.frame() === page.mainFrame();
        if (url.protocol === 'data:') {
          void request.continue();
          return;
        }
        seen.push({ path: url.pathname, type: request.resourceType(), navigation });
        const allowed = url.pathname === '/script-page' || url.pathname === '/redirect';
        void (allowed ? request.continue() : request.abort('blockedbyclient'));
      });

      const fetched = encodeURIComponent(`/blocked/fetch?tag=${t}`);
      const image = encodeURIComponent(`/blocked/image.png?tag=${t}`);
      await page.goto(origin(`/script-page?title=Shell&tag=${t}&fetch=${fetched}&img=${image}`));
      expect(await page.title()).toBe('Shell');
      // A redirect is a request of its own: aborting it ends the navigation.
      const to = encodeURIComponent(`/blocked/target?tag=${t}`);
      await expect(page.goto(origin(`/redirect?tag=${t}&to=${to}`))).rejects.toThrow(
        /ERR_BLOCKED_BY_CLIENT/,
      );

      expect(seen).toEqual(
        expect.arrayContaining([
          { path: '/script-page', type: 'document', navigation: true },
          { path: '/blocked/image.png', type: 'image', navigation: false },
          { path: '/blocked/fetch', type: 'fetch', navigation: false },
          { path: '/redirect', type: 'document', navigation: true },
          { path: '/blocked/target', type: 'document', navigation: true },
        ]),
      );
      expect((await originStats(t)).paths).toEqual({ '/script-page': 1, '/redirect': 1 });
    } finally {
      await closeQuietly(browser);
    }
  });

  it('keeps a session across a disconnect: sessions() lists it and connect() reuses it', async () => {
    const first = await puppeteer.launch(env.BROWSER);
    const sessionId = first.sessionId();
    let again: Browser | undefined;
    try {
      await first.disconnect();
      // Still listed. (Its connectionId is not a reliable "in use" sign locally: under vitest it
      // stays set after a disconnect, under wrangler dev it is cleared.)
      const listed = (await puppeteer.sessions(env.BROWSER)).find((s) => s.sessionId === sessionId);
      expect(listed).toMatchObject({ sessionId, startTime: expect.any(Number) });

      again = await puppeteer.connect(env.BROWSER, sessionId);
      expect(again.sessionId()).toBe(sessionId);
      const page = await again.newPage();
      await page.goto(origin(`/script-page?title=Reused&tag=${tag('reuse')}`));
      expect(await page.title()).toBe('Reused');
      // Locally the limits are fixed numbers (nothing is counted or enforced).
      expect(await puppeteer.limits(env.BROWSER)).toMatchObject({
        maxConcurrentSessions: expect.any(Number),
        allowedBrowserAcquisitions: expect.any(Number),
        timeUntilNextAllowedBrowserAcquisition: expect.any(Number),
      });
    } finally {
      if (again) await closeQuietly(again);
      else
        await closeQuietly(await puppeteer.connect(env.BROWSER, sessionId).catch(() => undefined));
    }
  });
});
