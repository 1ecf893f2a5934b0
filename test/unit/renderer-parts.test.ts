// The renderer's pure parts: what a rendered page may load (request-rules.ts), which pool
// instance renders a job (renderer-pool.ts), and the tab queue (tab-queue.ts).
import { describe, expect, it } from 'vitest';
import { blockedTarget } from '../../src/lib/ssrf';
import { DEFAULT_MAX_BROWSERS, maxBrowsers, rendererName } from '../../src/render/renderer-pool';
import { type RequestRules, requestVerdict } from '../../src/render/request-rules';
import { type Release, TabQueue, TabWaitAborted } from '../../src/render/tab-queue';

describe('requestVerdict', () => {
  const guarded: RequestRules = { isBlocked: blockedTarget, blockResources: true };
  const open: RequestRules = { isBlocked: undefined, blockResources: false };

  it('refuses private targets: a subresource is aborted, a main navigation ends the page', () => {
    const cases: Array<[string, string, boolean, string]> = [
      ['http://127.0.0.1/x', 'image', false, 'abort'],
      ['http://10.0.0.8/api', 'fetch', false, 'abort'],
      ['http://[::1]/api', 'xhr', false, 'abort'],
      ['http://localhost:8080/frame', 'document', false, 'abort'],
      ['http://169.254.169.254/latest/meta-data', 'script', false, 'abort'],
      ['http://127.0.0.1/', 'document', true, 'blocked'],
      ['http://192.168.1.1/admin', 'document', true, 'blocked'],
      ['https://example.com/app.js', 'script', false, 'continue'],
      ['https://example.com/', 'document', true, 'continue'],
    ];
    for (const [url, type, main, verdict] of cases) {
      expect(requestVerdict(url, type, main, guarded), `${url} ${type}`).toBe(verdict);
    }
  });

  it('lets everything of the web through without the guard (allowPrivate)', () => {
    expect(requestVerdict('http://127.0.0.1/x', 'fetch', false, open)).toBe('continue');
    expect(requestVerdict('http://127.0.0.1/', 'document', true, open)).toBe('continue');
  });

  it('refuses schemes that are not the web, but not the page’s own data', () => {
    expect(requestVerdict('file:///etc/passwd', 'document', true, open)).toBe('blocked');
    expect(requestVerdict('ftp://example.com/x', 'other', false, open)).toBe('abort');
    expect(requestVerdict('chrome://settings', 'document', false, open)).toBe('abort');
    expect(requestVerdict('not a url', 'other', false, open)).toBe('abort');
    for (const url of ['data:image/png;base64,AAAA', 'blob:https://example.com/1', 'about:blank']) {
      expect(requestVerdict(url, 'image', false, guarded), url).toBe('continue');
    }
  });

  it('blockResources drops images, media, fonts and the favicon, nothing else', () => {
    const heavy = (type: string, url = 'https://example.com/a') =>
      requestVerdict(url, type, false, guarded);
    expect(['image', 'media', 'font'].map((t) => heavy(t))).toEqual(['abort', 'abort', 'abort']);
    expect(heavy('other', 'https://example.com/favicon.ico')).toBe('abort');
    for (const type of ['document', 'script', 'stylesheet', 'xhr', 'fetch', 'other']) {
      expect(heavy(type), type).toBe('continue');
    }
    // Off: the same requests load.
    const light = { isBlocked: blockedTarget, blockResources: false };
    expect(requestVerdict('https://example.com/a.png', 'image', false, light)).toBe('continue');
  });
});

describe('rendererName', () => {
  it('sends a job to the same instance every time, within the pool', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `j${i.toString(36)}xk2m`);
    for (const id of ids) expect(rendererName(id, 3)).toBe(rendererName(id, 3));
    const names = new Set(ids.map((id) => rendererName(id, 3)));
    expect([...names].sort()).toEqual(['browser-0', 'browser-1', 'browser-2']);
    expect(rendererName('any', 1)).toBe('browser-0');
  });

  it('is a fixed hash (FNV-1a), so a deploy does not move running jobs', () => {
    expect(rendererName('', 1_000_000)).toBe(`browser-${0x811c9dc5 % 1_000_000}`);
    expect(rendererName('a', 2 ** 31)).toBe(`browser-${0xe40c292c % 2 ** 31}`);
  });

  it('reads MAX_BROWSERS as a positive integer, else the default', () => {
    expect(maxBrowsers('5')).toBe(5);
    expect(maxBrowsers(' 1 ')).toBe(1);
    for (const raw of [undefined, '', '0', '-2', '1.5', 'two', 'NaN']) {
      expect(maxBrowsers(raw), String(raw)).toBe(DEFAULT_MAX_BROWSERS);
    }
    expect(DEFAULT_MAX_BROWSERS).toBe(2);
  });
});

describe('TabQueue', () => {
  /** Resolves what has settled so far, in order: the grants of `waits` that came. */
  async function granted(waits: Array<Promise<Release>>): Promise<boolean[]> {
    const state = waits.map(() => false);
    waits.forEach((w, i) => {
      void w.then(
        () => {
          state[i] = true;
        },
        () => undefined,
      );
    });
    await new Promise((r) => setTimeout(r, 0));
    return state;
  }

  it('holds each job to its limit and the browser to its total, first come first served', async () => {
    const q = new TabQueue(3);
    const a = [q.acquire('A', 2), q.acquire('A', 2), q.acquire('A', 2)];
    const b = [q.acquire('B', 5), q.acquire('B', 5)];
    expect(await granted(a)).toEqual([true, true, false]);
    // B's first passes A's waiter (held by A's own limit); the total stops B's second.
    expect(await granted(b)).toEqual([true, false]);
    expect([q.open, q.waiting, q.openFor('A'), q.openFor('B')]).toEqual([3, 2, 2, 1]);

    // A frees a tab: A's waiter came first and may take it.
    (await a[0])?.();
    expect(await granted(a)).toEqual([true, true, true]);
    expect(await granted(b)).toEqual([true, false]);
    // B frees one: its own waiter gets it.
    (await b[0])?.();
    expect(await granted(b)).toEqual([true, true]);
    expect([q.open, q.waiting]).toEqual([3, 0]);
  });

  it('gives a tab back once, however often release is called', async () => {
    const q = new TabQueue(1);
    const release = await q.acquire('A', 1);
    const next = q.acquire('B', 1);
    release();
    release();
    (await next)();
    expect([q.open, q.openFor('A'), q.openFor('B')]).toEqual([0, 0, 0]);
  });

  it('drops a waiter whose signal aborts, and it takes no tab', async () => {
    const q = new TabQueue(1);
    const release = await q.acquire('A', 1);
    const stop = new AbortController();
    const waiting = q.acquire('B', 1, stop.signal);
    const after = q.acquire('C', 1);
    stop.abort();
    await expect(waiting).rejects.toBeInstanceOf(TabWaitAborted);
    expect(q.waiting).toBe(1);
    release();
    expect(await granted([after])).toEqual([true]);
    expect(q.openFor('B')).toBe(0);
    await expect(q.acquire('D', 1, stop.signal)).rejects.toBeInstanceOf(TabWaitAborted);
  });
});
