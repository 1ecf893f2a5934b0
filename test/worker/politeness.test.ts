// Politeness through the worker's own fetch handler: a host answering 429 gets its limit
// halved, and a host whose robots.txt cannot be read is not crawled at all.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';

describe('per-host throttling', () => {
  it('two 429s from a host halve its limit twice (4 -> 2 -> 1); the 429s are in the attempt log', async () => {
    const t = tag('throttle');
    const throttled = origin(`/status/429?tag=${t}&i=0`);
    const fine = origin(`/page?tag=${t}&i=1`, '127.0.0.2');
    const job = await submit({
      urls: [throttled, fine],
      concurrency: 4,
      perHostConcurrency: 4,
      retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
    });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    expect(view.counts).toMatchObject({ succeeded: 1, failed: 1 });
    const results = await allResults(job.id);
    expect(results.find((r) => r.url === throttled)).toMatchObject({
      ok: false,
      status: 429,
      attempts: 2,
      error: { kind: 'http_status' },
    });
    // Each 429 halved the host's limit; the other host was never throttled.
    const port = new URL(throttled).port;
    const hosts = await runInDurableObject(env.JOB_COORDINATOR.getByName(job.id), (_o, state) =>
      state.storage.sql.exec('SELECT host, lim FROM hosts ORDER BY id').toArray(),
    );
    expect(hosts).toEqual([
      { host: `127.0.0.1:${port}`, lim: 1 },
      { host: `127.0.0.2:${port}`, lim: null },
    ]);
    const res = await api(`/v1/jobs/${job.id}/attempts`);
    expect(res.status).toBe(200);
    const log = (await res.json()) as { items: unknown[]; nextCursor: string | null };
    expect(log.items).toEqual([
      expect.objectContaining({ url: throttled, attempt: 1, status: 429, kind: 'http_status' }),
    ]);
    expect((await originStats(t)).paths).toEqual({ '/status/429': 2, '/page': 1 });
  });
});

/** The message of a URL refused because its host's robots.txt could not be read. */
const UNREACHABLE = /^robots\.txt unreachable \(.+\): nothing on this host is fetched$/;

describe('robots.txt that cannot be read', () => {
  it('a host that refuses connections is disallowed: every URL gets kind robots, none is fetched', async () => {
    // Port 1 on loopback: nothing listens, so its robots.txt fetch fails to connect.
    const urls = ['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b?x=1', 'http://127.0.0.1:1/'];
    const job = await submit({
      urls,
      respectRobots: true,
      timeoutMs: 2_000,
      retry: { maxAttempts: 1, baseDelayMs: 20, maxDelayMs: 50 },
    });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    expect(view.counts).toMatchObject({ total: 3, failed: 3, succeeded: 0 });
    const results = await allResults(job.id);
    expect(results.map((r) => r.url).sort()).toEqual([...urls].sort());
    for (const r of results) {
      expect(r).toMatchObject({
        ok: false,
        status: null,
        attempts: 0,
        error: { kind: 'robots', message: expect.stringMatching(UNREACHABLE) },
      });
    }
    const stored = await runInDurableObject(env.JOB_COORDINATOR.getByName(job.id), (_o, state) =>
      state.storage.sql.exec<{ robots: string }>('SELECT robots FROM hosts').toArray(),
    );
    const rules = stored.map((h) => JSON.parse(h.robots));
    expect(rules).toEqual([{ allow: [], disallow: ['/'], unreachable: expect.any(String) }]);
  });
});
