import { describe, expect, it } from 'vitest';
import { UrlCounts } from '../../src/coordinator/counts';
import { HandoutBook } from '../../src/coordinator/handout-book';
import { HostTable } from '../../src/coordinator/hosts';
import type { JobRecord } from '../../src/coordinator/job-record';
import { JobStats } from '../../src/coordinator/job-view';
import { applyOutcomes, writeSettled } from '../../src/coordinator/outcomes';
import { failureLimit } from '../../src/coordinator/policy';
import type { QueuedRow, Settled, UrlStore } from '../../src/coordinator/url-store';
import type { PageOutcome } from '../../src/fetch/fetch-page';
import type { JobSpec, Result } from '../../src/jobs/types';
import type { Sql } from '../../src/lib/sql';
import type { WorkOutcome } from '../../src/shard/protocol';
import { okOutcome, resultOf } from '../support/outcomes';

type Row = {
  url: string;
  state: number;
  shard: number | null;
  attempts: number;
  dueAt: number | null;
};

/**
 * The URL table in memory: what the hand-out book and applyOutcomes ask of the real store.
 * Writes are recorded in `log` so that tests can assert the exact values written.
 */
class MemoryStore {
  rows = new Map<number, Row>();
  log: Array<[string, ...unknown[]]> = [];
  results = new Map<number, Result>();

  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      this.rows.set(i, { url: `http://h/${i}`, state: 0, shard: null, attempts: 0, dueAt: null });
    }
  }

  #row(idx: number): Row {
    const r = this.rows.get(idx);
    if (!r) throw new Error(`no row ${idx}`);
    return r;
  }

  queuedExcept(_excluded: readonly number[], limit: number): QueuedRow[] {
    const out: QueuedRow[] = [];
    for (const [idx, r] of this.rows) {
      if (out.length >= limit) break;
      if (r.state === 0)
        out.push({ idx, url: r.url, norm: r.url, host_id: 1, attempts: r.attempts });
    }
    return out;
  }

  markOut(shard: number, ids: readonly number[]): void {
    for (const idx of ids) Object.assign(this.#row(idx), { state: 1, shard });
  }

  markStarted(ids: readonly number[]): void {
    for (const idx of ids) this.#row(idx).attempts++;
  }

  requeue(idx: number, attempts: number): void {
    this.log.push(['requeue', idx, attempts]);
    Object.assign(this.#row(idx), { state: 0, attempts });
  }

  retryAt(idx: number, dueAt: number, attempts: number): void {
    this.log.push(['retryAt', idx, dueAt, attempts]);
    Object.assign(this.#row(idx), { state: 2, dueAt, attempts });
  }

  logAttempt(idx: number, n: number, _at: number, failure: { status: number | null }): void {
    this.log.push(['logAttempt', idx, n, failure.status]);
  }

  /** Like the UNIQUE results.idx: a second Result for a URL is not written. */
  writeResults(list: readonly Settled[]): Set<number> {
    const fresh = new Set<number>();
    for (const { idx, result } of list) {
      if (this.results.has(idx)) continue;
      this.results.set(idx, result);
      this.#row(idx).state = 3;
      fresh.add(idx);
    }
    return fresh;
  }

  /** The alarm's promoteDue for one URL: its retry fell due, it is queued again. */
  due(idx: number): void {
    Object.assign(this.#row(idx), { state: 0, dueAt: null });
  }

  outPerHost(): Array<{ host_id: number; n: number }> {
    return [];
  }
}

/** A hosts table of one host (id 1, nothing stored yet); `updates` records its writes. */
function hostSql(updates: unknown[][]): Sql {
  return {
    one: (query: string) =>
      query.includes('WHERE id = ?')
        ? { host: 'h', lim: null, blocked_until: 0, robots: null }
        : null,
    all: () => [],
    run: (query: string, ...params: unknown[]) => {
      if (query.startsWith('UPDATE hosts SET lim')) updates.push(params);
      return 0;
    },
  } as unknown as Sql;
}

const retry = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

function setUp(n: number, random: () => number, over: Partial<JobSpec> = {}) {
  const spec = {
    concurrency: 6,
    perHostConcurrency: 4,
    respectRobots: false,
    retry,
    mode: 'settle',
    ...over,
  } as JobSpec;
  const store = new MemoryStore(n);
  const counts = new UrlCounts();
  counts.move(null, 'queued', n);
  const stats = new JobStats();
  const hostUpdates: unknown[][] = [];
  const hosts = new HostTable(hostSql(hostUpdates), spec.perHostConcurrency, 6, false);
  const record = { markRunning: () => {}, setRun: () => {} } as unknown as JobRecord;
  const settle = (list: readonly Settled[]) =>
    writeSettled(store as unknown as UrlStore, counts, stats, list);
  const book = new HandoutBook(
    { spec, record, store: store as unknown as UrlStore, hosts, counts, settle, leaseMs: 2_000 },
    [{ slots: 6, run_id: null }],
  );
  book.startRun(0, 'r1', 0);
  const alarms: number[] = [];
  const deps = {
    spec,
    store: store as unknown as UrlStore,
    hosts,
    counts,
    book,
    settle,
    wantAlarm: (at: number) => alarms.push(at),
    random,
    failureLimit: failureLimit(spec, n),
  };
  /** Hands out what is queued, has the run start it, and reports `outcome` for URL `idx`. */
  const attempt = (idx: number, outcome: PageOutcome, now: number) => {
    book.handOut(0, 6, now);
    book.markStarted(0, [idx]);
    const report: WorkOutcome[] = [{ type: 'page', idx, outcome }];
    return applyOutcomes(deps, 0, report, now);
  };
  return { store, counts, hosts, hostUpdates, alarms, book, deps, attempt };
}

function failure(status: number, retryAfter: string | null = null): PageOutcome {
  return {
    ok: false,
    kind: 'http_status',
    message: `HTTP ${status}`,
    status,
    finalUrl: 'http://h/0',
    contentType: 'text/html',
    bytes: 10,
    durationMs: 5,
    fetchedAt: '2026-01-01T00:00:00.000Z',
    retryAfter,
  };
}

const success: PageOutcome = okOutcome({ title: 'T', bytes: 10, durationMs: 5 });

describe('applyOutcomes: the retry backoff', () => {
  it('backs off by the attempt that failed: +499 ms after attempt 1, +999 ms after attempt 2, then settles', () => {
    // Full jitter with random ~1: just under base * 2^(attempt - 1).
    const { store, counts, alarms, attempt } = setUp(1, () => 0.999999);
    expect(attempt(0, failure(500), 10_000)).toBeNull();
    expect(store.log).toEqual([
      ['logAttempt', 0, 1, 500],
      ['retryAt', 0, 10_499, 1],
    ]);
    expect(alarms).toEqual([10_499]);
    expect({ retrying: counts.retrying, out: counts.out }).toEqual({ retrying: 1, out: 0 });

    store.log = [];
    store.due(0);
    counts.move('retrying', 'queued');
    attempt(0, failure(500), 20_000);
    expect(store.log).toEqual([
      ['logAttempt', 0, 2, 500],
      ['retryAt', 0, 20_999, 2],
    ]);
    expect(alarms).toEqual([10_499, 20_999]);

    // The third attempt is the last of maxAttempts 3: it is the Result.
    store.log = [];
    store.due(0);
    counts.move('retrying', 'queued');
    attempt(0, failure(500), 30_000);
    expect(store.log).toEqual([]);
    expect(store.results.get(0)).toMatchObject({ attempts: 3, status: 500, ok: false });
    expect({ failed: counts.failed, retrying: counts.retrying }).toEqual({
      failed: 1,
      retrying: 0,
    });
  });

  it('with random 0 retries at once, and never before a Retry-After', () => {
    const { store, attempt } = setUp(2, () => 0);
    attempt(0, failure(502), 1_000);
    attempt(1, failure(500, '3'), 1_000);
    expect(store.log.filter((e) => e[0] === 'retryAt')).toEqual([
      ['retryAt', 0, 1_000, 1],
      ['retryAt', 1, 4_000, 1],
    ]);
  });

  it('does not retry a final status: its first attempt is its Result', () => {
    const { store, counts, attempt } = setUp(1, () => 0.5);
    attempt(0, failure(404), 1_000);
    expect(store.log).toEqual([]);
    expect(store.results.get(0)).toMatchObject({ attempts: 1, status: 404 });
    expect(counts.failed).toBe(1);
  });
});

describe('applyOutcomes: host politeness', () => {
  it('halves the host limit on a 429 and on a 503, not on a 500', () => {
    // perHostConcurrency 4.
    const { hosts, hostUpdates, attempt } = setUp(3, () => 0);
    attempt(0, failure(500), 1_000);
    expect(hostUpdates).toEqual([]);
    attempt(1, failure(429), 1_000);
    expect(hostUpdates).toEqual([[2, 0, 1]]);
    attempt(2, failure(503, '2'), 1_000);
    expect(hostUpdates).toEqual([
      [2, 0, 1],
      [1, 3_000, 1],
    ]);
    expect(hosts.get(1)).toMatchObject({ limit: 1, blockedUntil: 3_000 });
  });
});

describe('applyOutcomes and writeSettled: one Result per URL', () => {
  it('a report applied twice changes nothing the second time', () => {
    const { store, counts, deps, book } = setUp(2, () => 0);
    book.handOut(0, 6, 0);
    const report: WorkOutcome[] = [{ type: 'page', idx: 0, outcome: success }];
    applyOutcomes(deps, 0, report, 100);
    const after = { ...counts };
    expect(after).toMatchObject({ queued: 0, out: 1, succeeded: 1 });
    expect(store.results.get(0)?.attempts).toBe(1);
    applyOutcomes(deps, 0, report, 200);
    expect({ ...counts }).toEqual(after);
    expect(store.results.size).toBe(1);
    expect(book.runs[0]?.held).toBe(1);
  });

  it('writeSettled counts only the Results the store actually wrote', () => {
    const store = new MemoryStore(2);
    const counts = new UrlCounts();
    counts.move(null, 'out', 2);
    const stats = new JobStats();
    const result = (idx: number, ok: boolean): Settled => ({
      idx,
      result: resultOf(`http://h/${idx}`, {
        finalUrl: null,
        ok,
        status: ok ? 200 : 404,
        contentType: null,
        bytes: 100,
        durationMs: 7,
        fetchedAt: null,
        error: ok ? null : { kind: 'http_status', message: 'HTTP 404' },
      }),
    });
    const s = store as unknown as UrlStore;
    writeSettled(s, counts, stats, [result(0, true)]);
    counts.move('out', null);
    // URL 0 again (its Result is written: refused) with URL 1 (new).
    writeSettled(s, counts, stats, [result(0, false), result(1, false)]);
    counts.move('out', null);
    expect({ succeeded: counts.succeeded, failed: counts.failed }).toEqual({
      succeeded: 1,
      failed: 1,
    });
    expect(store.results.get(0)?.ok).toBe(true);
    expect(stats.toJSON().bytes).toBe(200);
  });
});

describe('applyOutcomes: what counts as an attempt', () => {
  const blocked = (status: number | null): PageOutcome => ({
    ...(failure(0) as Extract<PageOutcome, { ok: false }>),
    kind: 'blocked_target',
    message: 'blocked target: http://10.0.0.1/',
    status,
  });

  it('a target refused before any request is no attempt, even if its start was reported', () => {
    const { store, attempt } = setUp(1, () => 0);
    attempt(0, blocked(null), 1_000);
    expect(store.results.get(0)).toMatchObject({ attempts: 0, error: { kind: 'blocked_target' } });
  });

  it('a redirect into blocked space is one: its first hop was fetched', () => {
    const { store, attempt } = setUp(1, () => 0);
    attempt(0, blocked(302), 1_000);
    expect(store.results.get(0)).toMatchObject({ attempts: 1, status: 302 });
  });
});

describe('applyOutcomes: the failure limit', () => {
  /** Hands out what is queued and reports a 404 for each of `ids` in one report. */
  const fails = (t: ReturnType<typeof setUp>, ids: number[]) => {
    t.book.handOut(0, 6, 1_000);
    const report: WorkOutcome[] = ids.map((idx) => ({ type: 'page', idx, outcome: failure(404) }));
    return applyOutcomes(t.deps, 0, report, 1_000);
  };

  it('maxFailures 1: the second failure passes it; the outcomes after it are left to the ending', () => {
    const t = setUp(4, () => 0, { maxFailures: 1 });
    expect(fails(t, [0, 1, 2])).toBe(
      'cancelled: maxFailures 1 exceeded (2 failed; the last: http://h/1 (http_status: HTTP 404))',
    );
    expect([...t.store.results.keys()]).toEqual([0, 1]);
    expect(t.counts.failed).toBe(2);
  });

  it('"50%" of 4 URLs tolerates 2 failures, and a third passes it', () => {
    const t = setUp(4, () => 0, { maxFailures: '50%' });
    expect(fails(t, [0, 1])).toBe(null);
    expect(fails(t, [2])).toMatch(/^cancelled: maxFailures 50% exceeded \(3 failed; /);
  });

  it('failFast keeps its own message', () => {
    const t = setUp(2, () => 0, { mode: 'failFast' });
    expect(fails(t, [0])).toBe('cancelled: failFast tripped by http://h/0 (http_status: HTTP 404)');
  });
});
