// Runs in its own vitest project (see vitest.config.ts) with ALLOW_PRIVATE_TARGETS "false", as
// deployed: every other test runs with loopback targets allowed so it can scrape the origin.
import { describe, expect, it } from 'vitest';
import { allResults, origin, originStats, submit, tag, waitForJob } from '../support/api';

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
      // Final at once (not retried), and refused before any connection: no status.
      expect(r).toMatchObject({
        ok: false,
        status: null,
        attempts: 1,
        error: { kind: 'blocked_target' },
      });
      expect(r.error?.message).toMatch(/^blocked target: http:\/\//);
    }
    expect((await originStats(t)).requests).toBe(0);
  });
});
