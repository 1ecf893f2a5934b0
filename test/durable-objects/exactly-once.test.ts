// The coordinator driven directly: a shard's report replayed (its reply was lost, so it sends
// the same outcomes again), a second Result written for a settled URL, and the deadline alarm.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { UrlCounts } from '../../src/coordinator/counts';
import { JobStats } from '../../src/coordinator/job-view';
import { writeSettled } from '../../src/coordinator/outcomes';
import { resultFromOutcome } from '../../src/coordinator/result-body';
import { UrlStore } from '../../src/coordinator/url-store';
import type { PageOutcome } from '../../src/fetch/fetch-page';
import type { JobView } from '../../src/jobs/types';
import { Sql } from '../../src/lib/sql';
import type { ExchangeRequest } from '../../src/shard/protocol';
import { api, origin, submit, tag, waitForJob } from '../support/api';
import { hangingJob } from '../support/hanging-job';
import { okOutcome } from '../support/outcomes';

/** Jobs a test left hanging: cancelled after it, so their fetches end. */
const hanging: string[] = [];
afterEach(async () => {
  for (const id of hanging.splice(0)) await api(`/v1/jobs/${id}`, { method: 'DELETE' });
});

const fetchedAt = '2026-01-01T00:00:00.000Z';

function okPage(title: string): PageOutcome {
  return okOutcome({
    finalUrl: 'http://x/',
    title,
    links: 2,
    bytes: 123,
    data: {},
    durationMs: 9,
    fetchedAt,
  });
}

/** A 500 whose Retry-After (60 s) puts its retry far beyond the test. */
const failedPage: PageOutcome = {
  ok: false,
  kind: 'http_status',
  message: 'HTTP 500',
  status: 500,
  finalUrl: 'http://x/',
  contentType: 'text/html',
  bytes: 10,
  durationMs: 9,
  fetchedAt,
  retryAfter: '60',
};

/** What a replay must leave as it was: the job's counts and the URL's rows. */
interface Snapshot {
  counts: JobView['counts'] | undefined;
  url: Record<string, SqlStorageValue>;
  results: Array<Record<string, SqlStorageValue>>;
  attemptLog: Array<Record<string, SqlStorageValue>>;
}

/**
 * Sends shard 0's current run the same report twice, as a shard whose reply was lost would,
 * for a URL handed out to it (the job's pages hang, so nothing else reports it meanwhile).
 */
async function replay(jobId: string, outcome: PageOutcome) {
  const stub = env.JOB_COORDINATOR.getByName(jobId);
  return runInDurableObject(stub, async (instance, state) => {
    const sql = state.storage.sql;
    const { run_id: runId } = sql
      .exec<{ run_id: string | null }>('SELECT run_id FROM shards WHERE idx = 0')
      .one();
    const { idx } = sql
      .exec<{ idx: number }>(
        'SELECT idx FROM urls WHERE state = 1 AND shard = 0 ORDER BY idx LIMIT 1',
      )
      .one();
    const req: ExchangeRequest = {
      shardIdx: 0,
      runId: runId ?? '',
      outcomes: [{ type: 'page', idx, outcome }],
      started: [],
      want: 0,
      inflight: 6,
      queued: 0,
      retiring: false,
    };
    const snapshot = async (): Promise<Snapshot> => ({
      counts: (await instance.view())?.counts,
      url: sql.exec('SELECT state, attempts, due_at FROM urls WHERE idx = ?', idx).one(),
      results: sql.exec('SELECT idx, ok, kind, body FROM results WHERE idx = ?', idx).toArray(),
      attemptLog: sql.exec('SELECT idx, n, status FROM attempt_log WHERE idx = ?', idx).toArray(),
    });
    const firstReply = await instance.exchange(req);
    const first = await snapshot();
    const secondReply = await instance.exchange(req);
    const second = await snapshot();
    return { idx, firstReply, first, secondReply, second };
  });
}

describe('a replayed report', () => {
  it('settles its URL once: the replay leaves counts, the Result and attempts as they were', async () => {
    // 6 hanging URLs on one shard of 6 connections: all 6 are out with shard 0.
    const { id } = await hangingJob(6, 6);
    hanging.push(id);
    const { idx, firstReply, first, secondReply, second } = await replay(id, okPage('once'));
    expect(firstReply).toMatchObject({ stop: false, abort: false, items: [] });
    expect(secondReply).toMatchObject({ stop: false, abort: false, items: [] });
    expect(first.counts).toEqual({
      total: 6,
      queued: 0,
      inFlight: 5,
      retrying: 0,
      succeeded: 1,
      failed: 0,
      cancelled: 0,
    });
    expect(first.results).toHaveLength(1);
    expect(first.results[0]).toMatchObject({ idx, ok: 1, kind: null });
    expect(JSON.parse(String(first.results[0]?.body))).toMatchObject({
      ok: true,
      title: 'once',
      attempts: 1,
    });
    expect(first.url).toMatchObject({ state: 3 });
    // The replay: nothing moved.
    expect(second).toEqual(first);
  });

  it('retries its URL once: one logged attempt, one retry, the same due time', async () => {
    const { id } = await hangingJob(6, 6);
    hanging.push(id);
    const before = Date.now();
    const { idx, first, second } = await replay(id, failedPage);
    expect(first.counts).toMatchObject({ queued: 0, inFlight: 5, retrying: 1, failed: 0 });
    expect(first.url).toMatchObject({ state: 2, attempts: 1 });
    expect(Number(first.url.due_at)).toBeGreaterThanOrEqual(before + 60_000);
    expect(first.attemptLog).toEqual([{ idx, n: 1, status: 500 }]);
    expect(first.results).toEqual([]);
    expect(second).toEqual(first);
  });
});

describe('the results table', () => {
  it('refuses a second Result for a settled URL: the first stays, and nothing is counted', async () => {
    const { id } = await hangingJob(6, 6);
    hanging.push(id);
    const { idx } = await replay(id, okPage('first'));
    const stub = env.JOB_COORDINATOR.getByName(id);
    const seen = await runInDurableObject(stub, (_o, state) => {
      // The coordinator's own store on its own tables: a second Result for the URL (as a
      // report the hand-out book let through would write it) is refused by results.idx UNIQUE.
      const store = new UrlStore(new Sql(state.storage.sql));
      const second = { idx, result: resultFromOutcome('http://x/', 2, okPage('second')) };
      const written = [...store.writeResults([second])];
      const counts = new UrlCounts();
      const stats = new JobStats();
      writeSettled(store, counts, stats, [second]);
      const rows = state.storage.sql
        .exec<{ title: string }>(
          "SELECT body->>'title' AS title FROM results WHERE idx = ? ORDER BY seq",
          idx,
        )
        .toArray();
      const total = state.storage.sql
        .exec<{ n: number }>('SELECT count(*) AS n FROM results')
        .one().n;
      return { written, settled: counts.settled, bytes: stats.toJSON().bytes, rows, total };
    });
    expect(seen.written).toEqual([]);
    expect(seen.settled).toBe(0);
    expect(seen.bytes).toBe(0);
    expect(seen.rows).toEqual([{ title: 'first' }]);
    expect(seen.total).toBe(1);
    const view = await runInDurableObject(stub, (instance) => instance.view());
    expect(view?.counts).toMatchObject({ total: 6, succeeded: 1, inFlight: 5 });
  });
});

describe('the deadline alarm', () => {
  it('a housekeeping tick before the deadline arms the alarm at the deadline, and the job ends timed_out on time', async () => {
    const t = tag('deadline-tick');
    const urls = Array.from({ length: 2 }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 2, timeoutMs: 60_000, deadlineMs: 1_800 });
    hanging.push(job.id);
    // A stub breaks with the object it reached, so each use takes a fresh one.
    const stub = () => env.JOB_COORDINATOR.getByName(job.id);
    const alarm = () => runInDurableObject(stub(), (_o, state) => state.storage.getAlarm());
    const deadlineAt = await runInDurableObject(stub(), async (instance) => {
      const view = await instance.view();
      return Date.parse(view?.deadlineAt ?? '');
    });
    // Created with a deadline sooner than a tick (SHARD_LEASE_MS 2000 here): armed for it.
    expect(await alarm()).toBe(deadlineAt);
    // A tick runs now, well before the deadline: it must re-arm the alarm for the deadline
    // itself, not for its next tick (which would time the job out up to a tick late).
    expect(Date.now()).toBeLessThan(deadlineAt - 500);
    expect(await runDurableObjectAlarm(stub())).toBe(true);
    expect(await alarm()).toBe(deadlineAt);
    const view = await waitForJob(job.id, 10_000);
    expect(view.status).toBe('timed_out');
    expect(view.counts).toMatchObject({ total: 2, cancelled: 2, inFlight: 0 });
    // The duration is the behaviour here: the alarm fires at the deadline and the ending
    // settles 2 URLs, which takes milliseconds. The upper bound leaves a generous second for a
    // loaded machine; a late tick would land at the tick after the one run above (2 s later).
    const elapsed = Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt);
    expect(elapsed).toBeGreaterThanOrEqual(1_800);
    expect(elapsed).toBeLessThan(2_800);
  });

  it('a deadline between two ticks ends the job within a second of it, not at the next tick', async () => {
    const t = tag('deadline-between');
    const urls = Array.from({ length: 2 }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
    // Ticks come every 2 s here (SHARD_LEASE_MS 2000): the first at 2 s re-arms for 3 s.
    const job = await submit({ urls, concurrency: 2, timeoutMs: 60_000, deadlineMs: 3_000 });
    hanging.push(job.id);
    const view = await waitForJob(job.id, 10_000);
    expect(view.status).toBe('timed_out');
    // The duration is the behaviour: on time it is 3 s plus the ending (milliseconds); the
    // bound leaves a loaded machine almost a second. One tick late would be past 4 s.
    const elapsed = Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt);
    expect(elapsed).toBeGreaterThanOrEqual(3_000);
    expect(elapsed).toBeLessThan(4_000);
  });
});
