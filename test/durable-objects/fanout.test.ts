// Shards driven directly: ShardRun with a stand-in coordinator, the coordinator's and the
// shards' storage read in place, a shard's run aborted by RPC.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  MAX_CONNECTIONS_PER_SHARD,
  type ShardAssignment,
  type WorkItem,
} from '../../src/shard/protocol';
import { ShardRun } from '../../src/shard/shard-run';
import { allResults, getJob, origin, originStats, submit, tag, waitForJob } from '../support/api';
import { until } from '../support/time';

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
  return pages(n, (i) => `/delay?ms=${ms}&tag=${t}&i=${i}`);
}

/** `n` work items for origin pages that wait until tag `t`'s gate opens (`/__open`). */
function gatePages(n: number, t: string): WorkItem[] {
  return pages(n, (i) => `/gate?tag=${t}&i=${i}`);
}

function pages(n: number, path: (i: number) => string): WorkItem[] {
  const host = new URL(origin('/')).host;
  return Array.from({ length: n }, (_, i) => ({
    type: 'page',
    idx: i,
    url: origin(path(i)),
    host,
  }));
}

async function openGate(t: string): Promise<void> {
  expect((await fetch(origin(`/__open?tag=${t}`))).status).toBe(200);
}

describe('shards', () => {
  it('a shard never has more than 6 fetches in flight, however much it is given', async () => {
    const t = tag('shard6');
    // Pages that wait for the gate: the shard's connections fill up and stay full.
    const items = gatePages(30, t);
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
    const running = run.run();
    await until(
      async () => (await originStats(t)).inFlight >= MAX_CONNECTIONS_PER_SHARD,
      10_000,
      'the shard to fill its connections',
    );
    await openGate(t);
    await running;
    expect(reported).toBe(30);
    const stats = await originStats(t);
    expect(stats.requests).toBe(30);
    expect(stats.maxInFlight).toBe(MAX_CONNECTIONS_PER_SHARD);
  });

  it('told that nothing is queued, a shard reports once idle instead of after every page', async () => {
    const t = tag('dry');
    const host = new URL(origin('/')).host;
    const items: WorkItem[] = [40, 40, 40, 60, 120, 180].map((ms, i) => ({
      type: 'page',
      idx: i,
      url: origin(`/delay?ms=${ms}&tag=${t}&i=${i}`),
      host,
    }));
    const reports: number[] = [];
    const run = new ShardRun(
      { ...unitAssignment(3), items },
      {
        async exchange(req) {
          reports.push(req.outcomes.length);
          const done = req.inflight === 0 && req.queued === 0;
          return { items: [], stop: done, abort: false, dry: true };
        },
      },
    );
    await run.run();
    // The first finished page (or the first few, if they finish in one turn) leaves less than
    // a round queued: that report asks for work and hears that none is queued. The rest then
    // go in one report once the run is idle (a report after every page would be six).
    expect(reports).toHaveLength(2);
    expect(reports[0]).toBeGreaterThanOrEqual(1);
    expect(reports[0]).toBeLessThanOrEqual(3);
    expect((reports[0] ?? 0) + (reports[1] ?? 0)).toBe(6);
    expect((await originStats(t)).requests).toBe(6);
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
    // eager.
    expect(empty).toBeLessThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(12 + 2);
    expect((await originStats(t)).maxInFlight).toBeLessThanOrEqual(slots);
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
    // Gate pages keep the run going until the test is done looking at its alarm.
    const urls = Array.from({ length: 6 }, (_, i) => origin(`/gate?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 6 });
    const createdAt = Date.parse((await getJob(job.id)).createdAt);
    const shard = env.FETCH_SHARD.getByName(`${job.id}/0`);
    const alarm = await until(
      () => runInDurableObject(shard, (_o, state) => state.storage.getAlarm()),
      10_000,
      'the keep-alive alarm',
    );
    const seenAt = Date.now();
    // It is set KEEPALIVE_MS (30 s) ahead, when it is written: KEEPALIVE_DELAY_MS (1 s) after
    // the run started, which is after the job was created, and before the test saw it.
    expect(alarm).toBeGreaterThanOrEqual(createdAt + 1_000 + 30_000);
    expect(alarm).toBeLessThanOrEqual(seenAt + 30_000);
    // ...and after the run's first fetch reached the origin (both clocks are this machine's).
    const { firstAt } = (await (await fetch(origin(`/__stats?tag=${t}`))).json()) as {
      firstAt: number;
    };
    expect(firstAt).toBeGreaterThan(0);
    expect(alarm - 30_000).toBeGreaterThan(firstAt);
    await openGate(t);
    expect((await waitForJob(job.id)).counts.succeeded).toBe(6);
  });

  it('a shard that dies mid-batch loses nothing and doubles nothing', async () => {
    const t = tag('dies');
    const urls = Array.from({ length: 60 }, (_, i) => origin(`/delay?ms=100&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 12 });
    await until(async () => (await getJob(job.id)).counts.succeeded >= 10, 10_000, '10 Results');
    // Both shards drop their runs without a word, as a crashed isolate would: their leased
    // URLs only come back when the coordinator's alarm sees the leases expire.
    for (const idx of [0, 1]) await env.FETCH_SHARD.getByName(`${job.id}/${idx}`).abort();
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
