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

const fastRetry = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 50 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function attemptsSeen(t: string, key: string): Promise<number> {
  const res = await fetch(origin(`/attempts?tag=${t}&key=${key}`));
  return ((await res.json()) as { count: number }).count;
}

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

  it('the attempt log answers 404 for an unknown job and 400 for a bad cursor', async () => {
    expect((await api('/v1/jobs/j0nosuchjob0000000000/attempts')).status).toBe(404);
    const job = await submit({ urls: [origin('/text')] });
    const bad = await api(`/v1/jobs/${job.id}/attempts?cursor=nonsense`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/cursor/);
  });

  it('gives up after maxAttempts with the last failure as the result', async () => {
    const t = tag('flaky-out');
    const url = origin(`/flaky?tag=${t}&key=b&fails=10&code=500`);
    const job = await submit({ urls: [url], retry: { ...fastRetry, maxAttempts: 3 } });
    await waitForJob(job.id);
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({
      ok: false,
      status: 500,
      attempts: 3,
      error: { kind: 'http_status' },
    });
    expect(await attemptsSeen(t, 'b')).toBe(3);
  });

  it('never retries a 404', async () => {
    const t = tag('404');
    const job = await submit({ urls: [origin(`/status/404?tag=${t}&key=c`)], retry: fastRetry });
    await waitForJob(job.id);
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({ ok: false, status: 404, attempts: 1 });
    expect(await attemptsSeen(t, 'c')).toBe(1);
  });

  it('honours Retry-After: a 429 with Retry-After: 2 is not retried before 2 s', async () => {
    const t = tag('ra');
    const url = origin(`/flaky?tag=${t}&key=d&fails=1&code=429&retryAfter=2`);
    const job = await submit({ urls: [url], retry: fastRetry });
    await sleep(1_500);
    expect(await attemptsSeen(t, 'd')).toBe(1);
    const view = await waitForJob(job.id);
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    const first = Date.parse(view.createdAt);
    expect(Date.parse(r?.fetchedAt ?? '')).toBeGreaterThanOrEqual(first + 2_000);
  });
});

describe('deadlines', () => {
  it('times the job out at deadlineMs, aborting in-flight fetches', async () => {
    const t = tag('deadline');
    const urls = Array.from({ length: 6 }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 2, timeoutMs: 60_000, deadlineMs: 800 });
    const view = await waitForJob(job.id, 10_000);
    expect(view.status).toBe('timed_out');
    const elapsed = Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt);
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(elapsed).toBeLessThan(5_000);
    const results = await allResults(job.id);
    expect(results).toHaveLength(6);
    expect(results.every((r) => r.error?.kind === 'deadline')).toBe(true);
    for (let i = 0; i < 100 && (await originStats(t)).aborted < 2; i++) await sleep(20);
    expect((await originStats(t)).aborted).toBe(2);
  });

  it('PATCH moves the deadline earlier', async () => {
    const urls = Array.from({ length: 4 }, (_, i) => origin(`/hang?i=${i}&p=${tag('e')}`));
    const job = await submit({ urls, concurrency: 2, timeoutMs: 60_000, deadlineMs: 600_000 });
    await sleep(200);
    const res = await api(`/v1/jobs/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ deadlineMs: 700 }),
    });
    expect(res.status).toBe(200);
    const view = await waitForJob(job.id, 10_000);
    expect(view.status).toBe('timed_out');
    expect(Date.parse(view.deadlineAt ?? '') - Date.parse(view.createdAt)).toBe(700);
  });

  it('PATCH moves the deadline later, and the job completes', async () => {
    const t = tag('later');
    const urls = Array.from({ length: 8 }, (_, i) => origin(`/delay?ms=400&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 2, deadlineMs: 1_200 });
    const res = await api(`/v1/jobs/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ deadlineMs: 30_000 }),
    });
    expect(res.status).toBe(200);
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    expect(view.counts.succeeded).toBe(8);
  });

  it('PATCH rejects bad bodies and terminal jobs', async () => {
    const job = await submit({ urls: [origin('/text')] });
    const bad = await api(`/v1/jobs/${job.id}`, { method: 'PATCH', body: '{"deadlineMs": -5}' });
    expect(bad.status).toBe(400);
    await waitForJob(job.id);
    const late = await api(`/v1/jobs/${job.id}`, { method: 'PATCH', body: '{"deadlineMs": 5000}' });
    expect(late.status).toBe(409);
  });
});

describe('failFast', () => {
  it('the first permanent failure cancels the rest and names the cause', async () => {
    const t = tag('ff');
    const slow = Array.from({ length: 8 }, (_, i) => origin(`/delay?ms=1500&tag=${t}&i=${i}`));
    const bad = origin(`/status/404?tag=${t}`);
    const job = await submit({ urls: [bad, ...slow], concurrency: 3, mode: 'failFast' });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('failed');
    const results = await allResults(job.id);
    expect(results).toHaveLength(9);
    const failing = results.find((r) => r.url === bad);
    expect(failing?.error?.kind).toBe('http_status');
    const rest = results.filter((r) => r.url !== bad);
    expect(rest.every((r) => r.error?.kind === 'cancelled')).toBe(true);
    expect(rest[0]?.error?.message).toContain(bad);
    expect(Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt)).toBeLessThan(1_500);
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
