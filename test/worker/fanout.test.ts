// Fan-out through the worker's own fetch handler: shards, politeness, dedupe, big jobs, SSE.
import { describe, expect, it } from 'vitest';
import type { Result } from '../../src/jobs/types';
import { MAX_CONNECTIONS_PER_SHARD } from '../../src/shard/protocol';
import {
  allResults,
  api,
  getJob,
  origin,
  originStats,
  submit,
  tag,
  waitForJob,
} from '../support/api';
import { until } from '../support/time';

const port = () => new URL(origin('/')).port;

/** robots.txt requests per host (`host:port`) the origin has seen. */
async function robotsRequests(): Promise<Record<string, number>> {
  return (await (await fetch(origin('/__robots'))).json()) as Record<string, number>;
}

/** Opens tag `t`'s gate: its `/gate` pages, waiting until now, answer. */
async function openGate(t: string): Promise<void> {
  expect((await fetch(origin(`/__open?tag=${t}`))).status).toBe(200);
}

/** Waits until the origin has `n` requests of tag `t` in flight at once. */
function untilInFlight(t: string, n: number): Promise<unknown> {
  return until(async () => (await originStats(t)).inFlight >= n, 15_000, `${n} fetches in flight`);
}

describe('shards', () => {
  it('a job meets its concurrency with several shards and never exceeds it', async () => {
    const t = tag('fan');
    // Gate pages hold their connections until the test opens the gate: the job's whole
    // concurrency (more than one shard's 6) is in flight at once, whatever the machine's pace.
    const urls = Array.from({ length: 90 }, (_, i) => origin(`/gate?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 20 });
    // Its runs start as it is created: the whole concurrency is out at once, not only after
    // housekeeping ticks of the coordinator (every 2 s here) start more.
    expect((await getJob(job.id)).counts.inFlight).toBe(20);
    await untilInFlight(t, 20);
    await openGate(t);
    const view = await waitForJob(job.id);
    expect(view.counts.succeeded).toBe(90);
    const stats = await originStats(t);
    expect(stats.requests).toBe(90);
    expect(stats.maxInFlight).toBe(20);
    expect(stats.maxInFlight).toBeGreaterThan(MAX_CONNECTIONS_PER_SHARD);
  });

  it('a small job still gets its whole concurrency, spread over all its shards', async () => {
    const t = tag('spread');
    // 100 URLs at concurrency 50: all 50 connections are busy at once only if all 9 shards
    // start and share the queue (a shard holding several rounds would leave others idle).
    // The gate holds the first round until the test has seen all 50 in flight.
    const urls = Array.from({ length: 100 }, (_, i) => origin(`/gate?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 50 });
    // From its creation on, not only after housekeeping ticks (every 2 s here) start more.
    expect((await getJob(job.id)).counts.inFlight).toBe(50);
    await untilInFlight(t, 50);
    await openGate(t);
    expect((await waitForJob(job.id)).status).toBe('completed');
    const stats = await originStats(t);
    expect(stats.requests).toBe(100);
    expect(stats.maxInFlight).toBe(50);
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
    const first = a(`/flaky?tag=${t}&key=x&fails=1&code=429&retryAfter=2`);
    // Host B's pages take three rounds of 300 ms on 2 connections: they go on while A is held.
    const bUrls = Array.from({ length: 6 }, (_, i) => b(`/delay?ms=300&tag=${t}&i=${i}`));
    const aUrls = Array.from({ length: 4 }, (_, i) => a(`/delay?ms=10&tag=${t}&i=${i}`));
    const job = await submit({
      urls: [first, ...bUrls, ...aUrls],
      concurrency: 2,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
    });
    const view = await waitForJob(job.id);
    expect(view.counts.succeeded).toBe(11);
    const results = await allResults(job.id);
    const byUrl = new Map(results.map((r) => [r.url, r]));
    expect(byUrl.get(first)?.attempts).toBe(2);
    // The 429 was applied at `at` (the coordinator's clock, as fetchedAt is): host A is held
    // until 2 s later.
    const log = (await (await api(`/v1/jobs/${job.id}/attempts`)).json()) as {
      items: Array<{ url: string; status: number; at: string }>;
    };
    expect(log.items.map((i) => [i.url, i.status])).toEqual([[first, 429]]);
    const heldUntil = Date.parse(log.items[0]?.at ?? '') + 2_000;
    const fetchedAt = (u: string) => Date.parse(byUrl.get(u)?.fetchedAt ?? '');
    // Nothing of host A, the retry included, was fetched before its hold ended.
    for (const u of [first, ...aUrls]) expect(fetchedAt(u)).toBeGreaterThanOrEqual(heldUntil);
    // Host B was not held: its pages were fetched while A was held, some after the 429. The
    // hold is the behaviour under test; B's work (about 0.6 s) has 2 s to fit in.
    for (const u of bUrls) expect(fetchedAt(u)).toBeLessThan(heldUntil);
    expect(bUrls.some((u) => fetchedAt(u) > heldUntil - 2_000)).toBe(true);
  });

  it('respectRobots fetches robots.txt once per host and gives disallowed URLs kind robots', async () => {
    const before = await robotsRequests();
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
    // Counted per host, so that robots.txt fetched by jobs of other test files is not.
    const after = await robotsRequests();
    const host = (h: string) => `${h}:${port()}`;
    for (const h of ['127.0.0.4', '127.0.0.3']) {
      expect((after[host(h)] ?? 0) - (before[host(h)] ?? 0)).toBe(1);
    }
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
