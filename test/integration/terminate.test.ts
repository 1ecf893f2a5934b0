import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { JobCounts, JobView } from '../../src/jobs/types';
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

// vitest.config.ts sets SETTLE_CHUNK_ROWS to 50, so ending a 400-URL job takes 8 chunks.
const URLS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job of `n` URLs that never answer, with `concurrency` of them in flight at the origin. */
async function hangingJob(n: number, concurrency: number, extra: Record<string, unknown> = {}) {
  const t = tag('end');
  const urls = Array.from({ length: n }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
  const job = await submit({ urls, concurrency, timeoutMs: 60_000, ...extra });
  for (let i = 0; i < 200 && (await originStats(t)).inFlight < concurrency; i++) await sleep(20);
  expect((await originStats(t)).inFlight).toBe(concurrency);
  return { id: job.id, urls, t };
}

function settledOf(c: JobCounts): number {
  return c.succeeded + c.failed + c.cancelled;
}

/** Every URL is in exactly one of the view's counts. */
function expectConsistent(view: JobView, total: number): void {
  const c = view.counts;
  expect(c.total).toBe(total);
  expect(c.queued + c.inFlight + c.retrying + settledOf(c)).toBe(total);
}

describe('ending a job of many chunks', () => {
  it('DELETE settles every URL once, in chunks, and a status read issued meanwhile answers', async () => {
    const { id, urls, t } = await hangingJob(URLS, 6);
    const [del, read] = await Promise.all([
      api(`/v1/jobs/${id}`, { method: 'DELETE' }),
      api(`/v1/jobs/${id}`),
    ]);
    expect(del.status).toBe(200);
    const ended = (await del.json()) as JobView;
    expect(ended.status).toBe('cancelled');
    expect(ended.finishedAt).not.toBeNull();
    expect(ended.counts).toEqual({
      total: URLS,
      queued: 0,
      inFlight: 0,
      retrying: 0,
      succeeded: 0,
      failed: 0,
      cancelled: URLS,
    });
    expect(read.status).toBe(200);
    const during = (await read.json()) as JobView;
    expectConsistent(during, URLS);
    // Terminal only with every Result written.
    if (during.status === 'cancelled') expect(during.counts.cancelled).toBe(URLS);
    else expect(during.finishedAt).toBeNull();

    const results = await allResults(id);
    expect(results).toHaveLength(URLS);
    expect(new Set(results.map((r) => r.url))).toEqual(new Set(urls));
    expect(results.every((r) => r.error?.kind === 'cancelled')).toBe(true);
    for (let i = 0; i < 100 && (await originStats(t)).aborted < 6; i++) await sleep(20);
    expect((await originStats(t)).aborted).toBe(6);

    const again = await api(`/v1/jobs/${id}`, { method: 'DELETE' });
    expect(((await again.json()) as JobView).status).toBe('cancelled');
    expect(await allResults(id)).toEqual(results);
  });

  it('between chunks other calls are served: reads see it running, PATCH is refused, a second cancel waits', async () => {
    const { id } = await hangingJob(URLS, 6);
    const seen = await runInDurableObject(env.JOB_COORDINATOR.getByName(id), async (instance) => {
      const ending = instance.cancel();
      // The first chunk ran in cancel's own turn; the rest wait for later turns.
      const first = await instance.view();
      await scheduler.wait(0);
      const later = await instance.view();
      const page = await instance.results(0, 1_000);
      const patch = await instance.setDeadline(60_000);
      const second = instance.cancel();
      return { first, later, page, patch, end: await ending, second: await second };
    });
    for (const view of [seen.first, seen.later]) {
      expect(view?.status).toBe('running');
      expect(view?.finishedAt).toBeNull();
      if (view) expectConsistent(view, URLS);
    }
    expect(seen.first?.counts).toMatchObject({ inFlight: 0, cancelled: 50 });
    expect(seen.later?.counts.cancelled).toBeGreaterThan(50);
    expect(seen.later?.counts.cancelled).toBeLessThan(URLS);
    // Results written so far are readable, and the page does not claim the job is done.
    expect(seen.page?.terminal).toBe(false);
    expect(seen.page?.bodies.length).toBe(seen.later?.counts.cancelled);
    expect(seen.patch).toMatchObject({ ok: false, code: 'conflict' });
    expect(seen.end?.status).toBe('cancelled');
    expect(seen.second?.status).toBe('cancelled');
    expect(seen.end?.counts).toMatchObject({ cancelled: URLS, queued: 0, inFlight: 0 });
    expect(await allResults(id)).toHaveLength(URLS);
    expect(
      (await api(`/v1/jobs/${id}`, { method: 'PATCH', body: '{"deadlineMs": 1}' })).status,
    ).toBe(409);
  });

  it('an ending cut off by a crash is finished by the alarm, with its own status', async () => {
    const { id, urls } = await hangingJob(URLS, 6);
    // A stub breaks with the object it reached, so each use takes a fresh one.
    const stub = () => env.JOB_COORDINATOR.getByName(id);
    const atCrash: { ending?: string | null; results?: number } = {};
    // The deadline is moved into the past; after two chunks the object dies mid-ending.
    await expect(
      runInDurableObject(stub(), async (instance, state) => {
        void instance.setDeadline(1);
        await scheduler.wait(0);
        const sql = state.storage.sql;
        atCrash.ending = sql.exec<{ ending: string | null }>('SELECT ending FROM job').one().ending;
        atCrash.results = sql.exec<{ n: number }>('SELECT count(*) AS n FROM results').one().n;
        state.abort('crash mid-ending');
      }),
    ).rejects.toThrow(/crash mid-ending/);
    expect(JSON.parse(atCrash.ending ?? 'null')).toMatchObject({
      status: 'timed_out',
      kind: 'deadline',
    });
    expect(atCrash.results).toBeGreaterThan(0);
    expect(atCrash.results).toBeLessThan(URLS);

    // The restarted object refuses the dead ending's shards and finishes through its alarm.
    await runDurableObjectAlarm(stub());
    const view = await waitForJob(id, 10_000);
    expect(view.status).toBe('timed_out');
    expect(Date.parse(view.deadlineAt ?? '') - Date.parse(view.createdAt)).toBe(1);
    expect(view.counts).toMatchObject({ total: URLS, cancelled: URLS, queued: 0, inFlight: 0 });
    const results = await allResults(id);
    expect(results).toHaveLength(URLS);
    expect(new Set(results.map((r) => r.url))).toEqual(new Set(urls));
    expect(results.every((r) => r.error?.kind === 'deadline')).toBe(true);
    const marker = await runInDurableObject(stub(), (_o, state) =>
      state.storage.sql.exec<{ ending: string | null }>('SELECT ending FROM job').one(),
    );
    expect(marker.ending).toBeNull();
  });

  it('PATCH to a passed deadline ends a job of many chunks within the call', async () => {
    const { id } = await hangingJob(300, 4);
    const res = await api(`/v1/jobs/${id}`, { method: 'PATCH', body: '{"deadlineMs": 1}' });
    expect(res.status).toBe(200);
    const view = (await res.json()) as JobView;
    expect(view.status).toBe('timed_out');
    expect(view.counts).toMatchObject({ total: 300, cancelled: 300, queued: 0, inFlight: 0 });
    const results = await allResults(id);
    expect(results).toHaveLength(300);
    expect(results.every((r) => r.error?.kind === 'deadline')).toBe(true);
  });

  it('failFast over many chunks: the failing URL keeps its own Result, the rest are cancelled', async () => {
    const t = tag('ff-big');
    const bad = origin(`/status/404?tag=${t}`);
    const slow = Array.from({ length: 199 }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
    const job = await submit({ urls: [bad, ...slow], concurrency: 3, mode: 'failFast' });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('failed');
    expect(view.counts).toMatchObject({ total: 200, failed: 1, cancelled: 199, queued: 0 });
    const results = await allResults(job.id);
    expect(results).toHaveLength(200);
    expect(new Set(results.map((r) => r.url)).size).toBe(200);
    expect(results.find((r) => r.url === bad)?.error?.kind).toBe('http_status');
    const rest = results.filter((r) => r.url !== bad);
    expect(rest.every((r) => r.error?.kind === 'cancelled')).toBe(true);
    expect(rest[0]?.error?.message).toContain(bad);
    expect(await getJob(job.id)).toMatchObject({ status: 'failed' });
  });
});
