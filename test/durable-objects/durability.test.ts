// The job coordinator driven directly: its attempt log in storage, and recovery after every
// Durable Object is aborted (its alarm run by hand).
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
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
import { sleep } from '../support/time';

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
    expect(p1.nextCursor).not.toBeNull();
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
    const stub = env.JOB_COORDINATOR.getByName(job.id);
    for (let i = 0; i < 200 && (await getJob(job.id)).counts.succeeded < 10; i++) await sleep(20);
    // Every Durable Object (coordinator and shards) dies mid-job, as in a process crash.
    await abortAllDurableObjects();
    // The alarm is what brings the job back; fire it instead of waiting for it.
    for (let i = 0; i < 50 && (await getJob(job.id)).status === 'running'; i++) {
      await runDurableObjectAlarm(stub);
      await sleep(200);
    }
    const view = await waitForJob(job.id);
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
    for (let i = 0; i < 200 && (await getJob(job.id)).counts.succeeded < 6; i++) await sleep(20);
    const before = await runIds();
    expect(before.some((id) => id !== null)).toBe(true);
    await abortAllDurableObjects();
    const died = Date.now();
    // One alarm run, well inside SHARD_LEASE_MS (2 s here): the leases of the dead runs
    // expire because the shards say so, not because time ran out.
    await runDurableObjectAlarm(stub());
    const after = await runIds();
    expect(Date.now() - died).toBeLessThan(2_000);
    before.forEach((id, i) => {
      if (id !== null) expect(after[i]).not.toBe(id);
    });
    const view = await waitForJob(job.id, 30_000);
    expect(view.status).toBe('completed');
    const results = await allResults(job.id);
    expect(results).toHaveLength(40);
    expect(new Set(results.map((r) => r.url)).size).toBe(40);
  });
});
