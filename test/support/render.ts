// Helpers of the renderer tests: a RenderRequest with defaults, the processes of a browser
// session (the origin's /__processes, as in browser-binding.test.ts), and polling.
import type { RenderRequest, RenderSpec } from '../../src/render/protocol';
import { origin } from './api';

/** A render of `url` with the defaults a job would give it, and `over` on top. */
export function renderRequest(
  url: string,
  over: Partial<Omit<RenderRequest, 'render'>> & { render?: Partial<RenderSpec> } = {},
): RenderRequest {
  const { render, ...rest } = over;
  return {
    jobId: 'render-test-job',
    url,
    timeoutMs: 20_000,
    maxBytes: 5_000_000,
    tabs: 2,
    allowPrivate: true,
    userAgent: 'scrape-fanout-test/1.0',
    headers: {},
    ...rest,
    render: {
      mode: 'always',
      waitUntil: 'load',
      waitForSelector: null,
      blockResources: true,
      ...render,
    },
  };
}

/** Processes of one browser session, by its profile folder (null: no /proc on this machine). */
export async function sessionProcesses(sessionId: string): Promise<number | null> {
  const res = await fetch(
    origin(`/__processes?match=${encodeURIComponent(`profile-${sessionId}`)}`),
  );
  return ((await res.json()) as { count: number | null }).count;
}

/** Polls until `check` holds (at most `ms`); returns its last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (v: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const until = Date.now() + ms;
  let value = await read();
  while (!check(value) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}
