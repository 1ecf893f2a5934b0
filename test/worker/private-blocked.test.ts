// Runs in its own vitest project (see vitest.config.ts) with ALLOW_PRIVATE_TARGETS "false", as
// deployed: every other test runs with loopback targets allowed so it can scrape the origin.
import { describe, expect, it } from 'vitest';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';

describe('a deployment that blocks private targets', () => {
  it('settles every loopback and private URL as blocked_target, and no request reaches them', async () => {
    const t = tag('blocked-e2e');
    const port = new URL(origin('/')).port;
    // Loopback only (the ranges are the unit tests' of src/lib/ssrf.ts): should the guard
    // break, these requests reach the local origin and are counted, not some real network.
    const urls = [
      origin(`/page?tag=${t}&i=0`),
      origin(`/redirect?to=/page&tag=${t}&i=1`, '127.0.0.2'),
      origin(`/status/503?tag=${t}&i=2`, '127.0.0.3'),
      `http://localhost:${port}/page?tag=${t}&i=3`,
      'http://[::1]:1/v6',
    ];
    const job = await submit({
      urls,
      concurrency: 6,
      timeoutMs: 2_000,
      retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 },
    });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    expect(view.counts).toMatchObject({ total: 5, failed: 5, succeeded: 0, cancelled: 0 });
    const results = await allResults(job.id);
    expect(results.map((r) => r.url).sort()).toEqual([...urls].sort());
    for (const r of results) {
      // Final at once (not retried), and refused before any request: no status, no attempt.
      expect(r).toMatchObject({
        ok: false,
        status: null,
        attempts: 0,
        error: { kind: 'blocked_target' },
      });
      expect(r.error?.message).toMatch(/^blocked target: http:\/\//);
    }
    expect((await originStats(t)).requests).toBe(0);
  });

  it('with respectRobots, never asks a blocked host for its robots.txt: its pages are blocked_target', async () => {
    const t = tag('blocked-robots');
    const host = '127.0.0.4';
    const urls = [0, 1, 2].map((i) => origin(`/page?tag=${t}&i=${i}`, host));
    const job = await submit({ urls, concurrency: 6, respectRobots: true, timeoutMs: 2_000 });
    const view = await waitForJob(job.id);
    expect(view.counts).toMatchObject({ total: 3, failed: 3, succeeded: 0 });
    for (const r of await allResults(job.id)) {
      expect(r).toMatchObject({ ok: false, status: null, error: { kind: 'blocked_target' } });
    }
    const counts = (await (await fetch(origin('/__robots'))).json()) as Record<string, number>;
    expect(counts[new URL(origin('/', host)).host] ?? 0).toBe(0);
    expect((await originStats(t)).requests).toBe(0);
  });

  it('refuses a private callbackUrl at submit, and a plain-http one', async () => {
    for (const [callbackUrl, message] of [
      [origin('/hook'), 'callbackUrl: a private or local address is not allowed'],
      ['http://hooks.example/x', 'callbackUrl: must be an https URL'],
    ]) {
      const res = await api('/v1/jobs', {
        method: 'POST',
        body: JSON.stringify({ urls: ['https://a.example/'], callbackUrl }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error).toMatchObject({ code: 'invalid_request', message });
    }
  });
});
