// The job coordinator driven directly: its attempt log in storage, and recovery after every
// Durable Object is aborted (its alarm run by hand).
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FetchShard } from '../../durable-objects/fetch-shard';
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
import { attemptsSeen, fastRetry } from '../support/retries';
import { until } from '../support/time';

describe('retries', () => {
  it('retries a flaky page until it succeeds and counts every attempt', async () => {
    const t = tag('flaky');
    const url = origin(`/flaky?tag=${t}&key=a&fails=2&code=503`);
    const job = await submit({ urls: [url], retry: fastRetry });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({ ok: true, status: 200, attempts: 3 });
    expect(await attemptsSeen(t, 'a')).toBe(3);
    // The two failed attempts persist with their outcomes.
    const log = await runInDurableObject(env.JOB_COORDINATOR.getByName(job.id), (_o, state) =>
      state.storage.sql.exec('SELECT n, status, kind FROM attempt_log ORDER BY n').toArray(),
    );
    expect(log).toEqual([
      { n: 1, status: 503, kind: 'http_status' },
      { n: 2, status: 503, kind: 'http_status' },
    ]);
    // ...and are served by the API, paged by a cursor.
    const first = await api(`/v1/jobs/${job.id}/attempts?limit=1`);
    expect(first.status).toBe(200);
    const p1 = (await first.json()) as { items: unknown[]; nextCursor: string | null };
    expect(p1.items).toEqual([
      expect.objectContaining({ url, attempt: 1, status: 503, kind: 'http_status' }),
    ]);
    // The cursor names the position after attempt 1 (opaque to clients: base64 of it).
    expect(atob(p1.nextCursor ?? '')).toMatch(/^a\d+\.1$/);
    const p2 = (await (
      await api(`/v1/jobs/${job.id}/attempts?limit=1&cursor=${p1.nextCursor}`)
    ).json()) as { items: unknown[]; nextCursor: string | null };
    expect(p2.items).toEqual([expect.objectContaining({ url, attempt: 2, message: 'HTTP 503' })]);
    const p3 = (await (
      await api(`/v1/jobs/${job.id}/attempts?limit=1&cursor=${p2.nextCursor}`)
    ).json()) as { items: unknown[]; nextCursor: string | null };
    expect(p3).toEqual({ items: [], nextCursor: null });
  });
});

describe('crash and eviction', () => {
  it('an aborted instance resumes from storage through its alarm: nothing lost or doubled', async () => {
    const t = tag('crash');
    const urls = Array.from({ length: 40 }, (_, i) => origin(`/delay?ms=80&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 4 });
    // A stub breaks with the objects it reached, so each use takes a fresh one.
    const stub = () => env.JOB_COORDINATOR.getByName(job.id);
    await until(async () => (await getJob(job.id)).counts.succeeded >= 10, 10_000, '10 Results');
    // Every Durable Object (coordinator and shards) dies mid-job, as in a process crash.
    await abortAllDurableObjects();
    // The crash did come mid-job: storage (read in place, which arms no alarm) shows the job
    // running with URLs unsettled, and fetches in flight were cut off with the shards.
    const atCrash = await runInDurableObject(stub(), (_o, state) => {
      const sql = state.storage.sql;
      return {
        status: sql.exec<{ status: string }>('SELECT status FROM job').one().status,
        results: sql.exec<{ n: number }>('SELECT count(*) AS n FROM results').one().n,
      };
    });
    expect(atCrash.status).toBe('running');
    expect(atCrash.results).toBeGreaterThanOrEqual(10);
    expect(atCrash.results).toBeLessThan(40);
    // Seen once the origin notices the closed connections: slow on a loaded machine.
    await until(async () => (await originStats(t)).aborted > 0, 15_000, 'fetches cut off');
    // The alarm is what brings the job back; fire it instead of waiting for it.
    const view = await until(
      async () => {
        await runDurableObjectAlarm(stub());
        const v = await getJob(job.id);
        return v.status === 'running' ? null : v;
      },
      20_000,
      'the job to resume and end',
      200,
    );
    expect(view.status).toBe('completed');
    const results = await allResults(job.id);
    expect(results).toHaveLength(40);
    expect(new Set(results.map((r) => r.url))).toEqual(new Set(urls));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(view.counts).toMatchObject({ total: 40, succeeded: 40, queued: 0, inFlight: 0 });
    const stats = await originStats(t);
    expect(results.reduce((sum, r) => sum + r.attempts, 0)).toBeLessThanOrEqual(stats.requests);
  });

  it('after a restart, shard runs that died with the process are replaced at once', async () => {
    const t = tag('probe');
    const urls = Array.from({ length: 40 }, (_, i) => origin(`/delay?ms=150&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 12 });
    // A stub breaks with the objects it reached, so each use takes a fresh one.
    const stub = () => env.JOB_COORDINATOR.getByName(job.id);
    const runIds = () =>
      runInDurableObject(stub(), (_o, state) =>
        state.storage.sql
          .exec<{ run_id: string | null }>('SELECT run_id FROM shards ORDER BY idx')
          .toArray()
          .map((r) => r.run_id),
      );
    await until(async () => (await getJob(job.id)).counts.succeeded >= 6, 10_000, '6 Results');
    const before = await runIds();
    const dead = before.filter((id) => id !== null);
    expect(dead.length).toBeGreaterThan(0);
    // What the restarted coordinator asks its shards (they run in this isolate).
    const asked: Array<[string, boolean]> = [];
    const alive = FetchShard.prototype.alive;
    FetchShard.prototype.alive = async function (this: FetchShard, runId: string) {
      const answer = await alive.call(this, runId);
      asked.push([runId, answer]);
      return answer;
    };
    try {
      await abortAllDurableObjects();
      // One alarm run: it asks each shard about the run it remembers, hears that each died,
      // and replaces them.
      const startedAt = Date.now();
      await runDurableObjectAlarm(stub());
      const took = Date.now() - startedAt;
      const after = await runIds();
      expect(asked.filter(([id]) => dead.includes(id)).sort()).toEqual(
        dead.map((id): [string, boolean] => [id, false]).sort(),
      );
      before.forEach((id, i) => {
        if (id !== null) expect(after[i]).not.toBe(id);
      });
      // The leases of the restarted coordinator's runs (SHARD_LEASE_MS, 2 s here) start when it
      // loads, in this alarm run: one that ends within 2 s proves the runs were replaced
      // because the shards said so, not because a lease ran out. The run takes tens of ms.
      expect(took).toBeLessThan(2_000);
    } finally {
      FetchShard.prototype.alive = alive;
    }
    const view = await waitForJob(job.id, 30_000);
    expect(view.status).toBe('completed');
    const results = await allResults(job.id);
    expect(results).toHaveLength(40);
    expect(new Set(results.map((r) => r.url)).size).toBe(40);
  });
});
