// Fan-out through the worker's own fetch handler: shards, politeness, dedupe, big jobs, SSE.
import { describe, expect, it } from 'vitest';
import type { Result } from '../../src/jobs/types';
import { MAX_CONNECTIONS_PER_SHARD } from '../../src/shard/protocol';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';

const port = () => new URL(origin('/')).port;

describe('shards', () => {
  it('a job meets its concurrency with several shards and never exceeds it', async () => {
    const t = tag('fan');
    const urls = Array.from({ length: 90 }, (_, i) => origin(`/delay?ms=150&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 20 });
    const view = await waitForJob(job.id);
    expect(view.counts.succeeded).toBe(90);
    const stats = await originStats(t);
    expect(stats.maxInFlight).toBeLessThanOrEqual(20);
    expect(stats.maxInFlight).toBeGreaterThan(MAX_CONNECTIONS_PER_SHARD);
  });

  it('a small job still gets its whole concurrency, spread over all its shards', async () => {
    const t = tag('spread');
    // 100 URLs at concurrency 50: two rounds, if all 9 shards start and share the queue.
    const urls = Array.from({ length: 100 }, (_, i) => origin(`/delay?ms=300&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 50 });
    expect((await waitForJob(job.id)).status).toBe('completed');
    const stats = await originStats(t);
    expect(stats.maxInFlight).toBeLessThanOrEqual(50);
    expect(stats.maxInFlight).toBeGreaterThanOrEqual(40);
  });
});

describe('shard runs that retire', () => {
  it('a run retiring mid-job reports every page it parsed, selectors and all', async () => {
    const t = tag('retire');
    // One shard; 900 pages make its runs retire twice (400 items each). With selectors every
    // page is parsed after its connection is freed, so a retiring run must still wait for it.
    const urls = Array.from({ length: 900 }, (_, i) => origin(`/page?title=P${i}&tag=${t}`));
    const job = await submit({ urls, concurrency: 6, extract: { selectors: { h: 'title' } } });
    const view = await waitForJob(job.id, 60_000);
    expect(view.status).toBe('completed');
    expect(view.counts.succeeded).toBe(900);
    const results = await allResults(job.id);
    expect(results.every((r) => r.attempts === 1 && r.data?.h === r.title)).toBe(true);
    // Nothing was fetched twice: no outcome was dropped and no lease had to expire.
    expect((await originStats(t)).requests).toBe(900);
  });
});

describe('per-host politeness', () => {
  it('perHostConcurrency holds across all shards of a job', async () => {
    const t = tag('perhost');
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
    const urls = Array.from({ length: 120 }, (_, i) =>
      origin(`/delay?ms=80&tag=${t}&i=${i}`, hosts[i % 4]),
    );
    const job = await submit({ urls, concurrency: 24, perHostConcurrency: 3 });
    const view = await waitForJob(job.id);
    expect(view.counts.succeeded).toBe(120);
    const stats = await originStats(t);
    for (const h of hosts) {
      const s = stats.byHost[`${h}:${port()}`];
      expect(s?.requests).toBe(30);
      expect(s?.maxInFlight).toBeLessThanOrEqual(3);
    }
    expect(stats.maxInFlight).toBeGreaterThan(3);
  });

  it("a host's 429 + Retry-After holds back that host only", async () => {
    const t = tag('throttle');
    const a = (p: string) => origin(p, '127.0.0.2');
    const b = (p: string) => origin(p, '127.0.0.3');
    const first = a(`/flaky?tag=${t}&key=x&fails=1&code=429&retryAfter=1`);
    const bUrls = Array.from({ length: 6 }, (_, i) => b(`/delay?ms=60&tag=${t}&i=${i}`));
    const aUrls = Array.from({ length: 4 }, (_, i) => a(`/delay?ms=10&tag=${t}&i=${i}`));
    const job = await submit({
      urls: [first, ...bUrls, ...aUrls],
      concurrency: 2,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
    });
    const view = await waitForJob(job.id);
    expect(view.counts.succeeded).toBe(11);
    const results = await allResults(job.id);
    const at = (r: Result) => Date.parse(r.fetchedAt ?? '') - Date.parse(view.createdAt);
    const byUrl = new Map(results.map((r) => [r.url, r]));
    for (const u of bUrls) expect(at(byUrl.get(u) as Result)).toBeLessThan(900);
    for (const u of [first, ...aUrls])
      expect(at(byUrl.get(u) as Result)).toBeGreaterThanOrEqual(950);
    expect(byUrl.get(first)?.attempts).toBe(2);
  });

  it('respectRobots fetches robots.txt once per host and gives disallowed URLs kind robots', async () => {
    const before = (await originStats('')).paths['/robots.txt'] ?? 0;
    const t = tag('robots');
    const urls = [
      ...Array.from({ length: 5 }, (_, i) => origin(`/private/${i}?tag=${t}`, '127.0.0.4')),
      ...Array.from({ length: 5 }, (_, i) =>
        origin(`/page?title=R${i}&links=1&tag=${t}`, '127.0.0.4'),
      ),
      origin(`/private/z?tag=${t}`, '127.0.0.3'),
    ];
    const job = await submit({ urls, concurrency: 6, respectRobots: true });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    const results = await allResults(job.id);
    const denied = results.filter((r) => r.error?.kind === 'robots');
    expect(denied.map((r) => r.url).sort()).toEqual(
      urls.filter((u) => u.includes('/private/')).sort(),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect((await originStats(t)).paths['/private/0'] ?? 0).toBe(0);
    const after = (await originStats('')).paths['/robots.txt'] ?? 0;
    expect(after - before).toBe(2);
  });
});

describe('normalisation and big jobs', () => {
  it('dedupes after normalisation and keeps the first spelling', async () => {
    const p = port();
    const urls = [
      `HTTP://127.0.0.1:${p}/page?title=N&links=0#top`,
      `http://127.0.0.1:${p}/page?title=N&links=0`,
      `http://127.0.0.1:${p}/page?title=N&links=0#other`,
      `http://127.0.0.1:${p}/page?title=M&links=0`,
    ];
    const job = await submit({ urls });
    expect(job).toMatchObject({ accepted: 2, duplicates: 2 });
    await waitForJob(job.id);
    const results = await allResults(job.id);
    expect(results.map((r) => r.url).sort()).toEqual([urls[0], urls[3]].sort());
  });

  it('a 20,000-URL job completes with every Result exactly once', async () => {
    const t = tag('big');
    const urls = Array.from({ length: 20_000 }, (_, i) =>
      origin(`/page?title=B${i}&links=2&tag=${t}`),
    );
    const job = await submit({ urls, concurrency: 200 });
    expect(job.accepted).toBe(20_000);
    const view = await waitForJob(job.id, 170_000);
    expect(view.status).toBe('completed');
    expect(view.counts.succeeded).toBe(20_000);
    const res = await api(`/v1/jobs/${job.id}/results`, {
      headers: { accept: 'application/x-ndjson' },
    });
    const text = new TextDecoder().decode(await res.arrayBuffer());
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(20_000);
    const seen = new Set(lines.map((l) => (JSON.parse(l) as Result).url));
    expect(seen.size).toBe(20_000);
    expect((await originStats(t)).requests).toBe(20_000);
  }, 180_000);
});

describe('server-sent events', () => {
  it('streams progress until the job ends', async () => {
    const t = tag('sse');
    const urls = Array.from({ length: 12 }, (_, i) => origin(`/delay?ms=250&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 2 });
    const res = await api(`/v1/jobs/${job.id}/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = new TextDecoder().decode(await res.arrayBuffer());
    const events = text
      .trim()
      .split('\n\n')
      .map((block) => block.split('\n')[0]);
    expect(events.at(-1)).toBe('event: end');
    expect(events.filter((e) => e === 'event: progress').length).toBeGreaterThanOrEqual(1);
    const last = JSON.parse(text.trim().split('\n').at(-1)?.slice('data: '.length) ?? '{}');
    expect(last.status).toBe('completed');
    expect(last.counts.succeeded).toBe(12);
  });
});
