import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../src/jobs/types';
import {
  MAX_CONNECTIONS_PER_SHARD,
  type ShardAssignment,
  type WorkItem,
} from '../../src/shard/protocol';
import { ShardRun } from '../../src/shard/shard-run';
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const port = () => new URL(origin('/')).port;

/** A shard run's assignment for ShardRun driven directly, with no coordinator behind it. */
function unitAssignment(slots: number): ShardAssignment {
  return {
    jobId: 'unit',
    shardIdx: 0,
    runId: 'r1',
    slots,
    timeoutMs: 5_000,
    maxBytes: 1_000_000,
    selectors: {},
    allowPrivate: true,
    heartbeatMs: 500,
    items: [],
    holds: [],
  };
}

/** `n` work items for origin pages that answer after `ms`, counted under tag `t`. */
function delayedPages(n: number, ms: number, t: string): WorkItem[] {
  const host = new URL(origin('/')).host;
  return Array.from({ length: n }, (_, i) => ({
    type: 'page',
    idx: i,
    url: origin(`/delay?ms=${ms}&tag=${t}&i=${i}`),
    host,
  }));
}

describe('shards', () => {
  it('a shard never has more than 6 fetches in flight, however much it is given', async () => {
    const t = tag('shard6');
    const items = delayedPages(30, 60, t);
    let reported = 0;
    const run = new ShardRun(unitAssignment(MAX_CONNECTIONS_PER_SHARD), {
      // A greedy coordinator: hands out far more than the shard's slots at once.
      async exchange(req) {
        reported += req.outcomes.length;
        const batch = items.splice(0, 25);
        const done = reported === 30 && req.inflight === 0 && req.queued === 0;
        return { items: batch, stop: done, abort: false };
      },
    });
    await run.run();
    expect(reported).toBe(30);
    const stats = await originStats(t);
    expect(stats.requests).toBe(30);
    expect(stats.maxInFlight).toBe(MAX_CONNECTIONS_PER_SHARD);
  });

  it('under eager replies a shard asks for work only when a connection is free', async () => {
    const t = tag('eager');
    const items = delayedPages(12, 40, t);
    const slots = 3;
    let held = 0;
    let reported = 0;
    let calls = 0;
    let empty = 0;
    const run = new ShardRun(unitAssignment(slots), {
      // Like the coordinator under host limits or in a job's last rounds: no more than the
      // shard's free connections, and outcomes wanted at once.
      async exchange(req) {
        calls++;
        reported += req.outcomes.length;
        held -= req.outcomes.length;
        const batch = items.splice(0, Math.max(0, slots - held));
        held += batch.length;
        if (batch.length === 0 && req.outcomes.length === 0) empty++;
        const done = reported === 12 && req.inflight === 0 && req.queued === 0;
        return { items: batch, stop: done, abort: false, eager: items.length > 0 };
      },
    });
    await run.run();
    expect(reported).toBe(12);
    // One call per finished page (reporting it and taking the next URL), plus the first;
    // none that could only come back empty but the one after the coordinator stops being
    // eager (10 of them before the fix).
    expect(empty).toBeLessThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(12 + 2);
    expect((await originStats(t)).maxInFlight).toBeLessThanOrEqual(slots);
  });

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

  it('starts its shards as it is created, and in its last rounds no shard holds more URLs than connections', async () => {
    const t = tag('last');
    // 20 URLs at concurrency 12 (two shards of 6): the whole job is its last two rounds.
    const urls = Array.from({ length: 20 }, (_, i) => origin(`/delay?ms=300&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 12 });
    const coordinator = env.JOB_COORDINATOR.getByName(job.id);
    // Right after the POST, before any alarm of the coordinator ran: leases are out already.
    const leased = await runInDurableObject(coordinator, (_o, state) =>
      state.storage.sql
        .exec<{ shard: number; n: number }>(
          'SELECT shard, count(*) AS n FROM urls WHERE state = 1 GROUP BY shard ORDER BY shard',
        )
        .toArray(),
    );
    expect(leased.map((r) => r.shard)).toEqual([0, 1]);
    for (const r of leased) expect(r.n).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_SHARD);
    const view = await waitForJob(job.id);
    expect(view.counts.succeeded).toBe(20);
    const stats = await originStats(t);
    expect(stats.requests).toBe(20);
    expect(stats.maxInFlight).toBeLessThanOrEqual(12);
  });

  it('a shard writes its keep-alive alarm a second into its run, not before its first fetches', async () => {
    const t = tag('keepalive');
    const urls = Array.from({ length: 6 }, (_, i) => origin(`/delay?ms=2500&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 6 });
    const shard = env.FETCH_SHARD.getByName(`${job.id}/0`);
    const alarmOf = () => runInDurableObject(shard, (_o, state) => state.storage.getAlarm());
    // Once the first fetches reached the origin, the alarm is still to come.
    for (let i = 0; i < 100 && (await originStats(t)).requests === 0; i++) await sleep(10);
    expect((await originStats(t)).requests).toBeGreaterThan(0);
    expect(await alarmOf()).toBeNull();
    let alarm: number | null = null;
    for (let i = 0; i < 100 && alarm === null; i++) {
      await sleep(50);
      alarm = await alarmOf();
    }
    expect(alarm).not.toBeNull();
    expect((await waitForJob(job.id)).counts.succeeded).toBe(6);
  });

  it('a shard that dies mid-batch loses nothing and doubles nothing', async () => {
    const t = tag('dies');
    const urls = Array.from({ length: 60 }, (_, i) => origin(`/delay?ms=100&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 12 });
    for (let i = 0; i < 200 && (await getJob(job.id)).counts.succeeded < 10; i++) await sleep(20);
    // Both shards drop their runs without a word, as a crashed isolate would: their leased
    // URLs only come back when the coordinator's alarm sees the leases expire.
    for (const idx of [0, 1]) await env.FETCH_SHARD.getByName(`${job.id}/${idx}`).abort(job.id);
    const view = await waitForJob(job.id, 30_000);
    expect(view.status).toBe('completed');
    const results = await allResults(job.id);
    expect(results).toHaveLength(60);
    expect(new Set(results.map((r) => r.url)).size).toBe(60);
    expect(results.every((r) => r.ok)).toBe(true);
    // Attempts count fetches that ran: never more than the origin saw, never fewer than one.
    const stats = await originStats(t);
    const attempts = results.reduce((sum, r) => sum + r.attempts, 0);
    expect(results.every((r) => r.attempts >= 1)).toBe(true);
    expect(attempts).toBeLessThanOrEqual(stats.requests);
    expect(stats.aborted).toBeGreaterThan(0);
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
