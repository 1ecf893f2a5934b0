import { describe, expect, it } from 'vitest';
import { UrlCounts } from '../../src/coordinator/counts';
import { HandoutBook } from '../../src/coordinator/handout-book';
import { HostTable } from '../../src/coordinator/hosts';
import type { JobRecord } from '../../src/coordinator/job-record';
import type { QueuedRow, Settled, UrlStore } from '../../src/coordinator/url-store';
import type { JobSpec } from '../../src/jobs/types';
import type { Sql } from '../../src/lib/sql';
import type { WorkItem } from '../../src/shard/protocol';

/** The URL table in memory: what the book asks of the real store, and nothing more. */
class MemoryStore {
  rows = new Map<number, { url: string; state: number; shard: number | null; attempts: number }>();
  takenBack: number[] = [];

  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      this.rows.set(i, { url: `http://h/${i}`, state: 0, shard: null, attempts: 0 });
    }
  }

  #row(idx: number): QueuedRow {
    const r = this.rows.get(idx);
    if (!r) throw new Error(`no row ${idx}`);
    return { idx, url: r.url, norm: r.url, host_id: 1, attempts: r.attempts };
  }

  takeInOrder(shard: number, n: number): QueuedRow[] {
    const out: QueuedRow[] = [];
    for (const [idx, r] of this.rows) {
      if (out.length >= n) break;
      if (r.state !== 0) continue;
      r.state = 1;
      r.shard = shard;
      out.push(this.#row(idx));
    }
    return out;
  }

  markStarted(ids: readonly number[]): void {
    for (const idx of ids) {
      const r = this.rows.get(idx);
      if (r) r.attempts++;
    }
  }

  takeBackFrom(shard: number): number[] {
    const back: number[] = [];
    for (const [idx, r] of this.rows) {
      if (r.state !== 1 || r.shard !== shard) continue;
      r.state = 0;
      back.push(idx);
    }
    this.takenBack.push(...back);
    return back;
  }

  outPerHost(): Array<{ host_id: number; n: number }> {
    const n = [...this.rows.values()].filter((r) => r.state === 1).length;
    return n > 0 ? [{ host_id: 1, n }] : [];
  }
}

/** A hosts table with one host and no stored state. */
const hostSql = {
  one: (query: string) =>
    query.includes('WHERE id = ?')
      ? { host: 'h', lim: null, blocked_until: 0, robots: null }
      : null,
  all: () => [],
  run: () => 0,
} as unknown as Sql;

const spec = (concurrency: number) =>
  ({ concurrency, perHostConcurrency: concurrency, respectRobots: false }) as JobSpec;

function setUp(n: number, slots: number[]) {
  const concurrency = slots.reduce((a, b) => a + b, 0);
  const store = new MemoryStore(n);
  const counts = new UrlCounts();
  counts.move(null, 'queued', n);
  const runLog: Array<[number, string | null]> = [];
  const record = {
    markRunning: () => {},
    setRun: (idx: number, runId: string | null) => runLog.push([idx, runId]),
  } as unknown as JobRecord;
  const settled: Settled[] = [];
  const book = new HandoutBook(
    {
      spec: spec(concurrency),
      record,
      store: store as unknown as UrlStore,
      hosts: new HostTable(hostSql, concurrency, concurrency, false),
      counts,
      settle: (list) => settled.push(...list),
      leaseMs: 2_000,
    },
    slots.map((s) => ({ slots: s, run_id: null })),
  );
  return { book, store, counts, runLog };
}

const pages = (items: WorkItem[]) =>
  items.map((i) => (i.type === 'page' ? i.idx : `robots:${i.hostId}`));

describe('HandoutBook', () => {
  it('hands out in queue order within the fair share, and counts what each run holds', () => {
    const { book, counts } = setUp(1_000, [6, 6]);
    book.startRun(0, 'a', 0);
    book.startRun(1, 'b', 0);
    // 6 + ceil(6 * 1000 / 12) = 506: the ask of 36 is met in full.
    expect(book.allowance(0, 36)).toBe(36);
    const items = book.handOut(0, 36, 0);
    expect(pages(items)).toEqual(Array.from({ length: 36 }, (_, i) => i));
    expect(book.runs[0]?.held).toBe(36);
    expect({ queued: counts.queued, out: counts.out }).toEqual({ queued: 964, out: 36 });
  });

  it('in the last two rounds gives a run no more than its free connections, and asks for eager reports', () => {
    // 20 URLs at concurrency 12: the whole job is its last two rounds.
    const { book, counts } = setUp(20, [6, 6]);
    book.startRun(0, 'a', 0);
    book.startRun(1, 'b', 0);
    expect(book.freeOnly).toBe(true);
    expect(book.allowance(0, 36)).toBe(6);
    const first = book.handOut(0, 6, 0);
    expect(book.allowance(0, 36)).toBe(0);
    expect(book.allowance(1, 36)).toBe(6);
    const reply = book.reply(first, 36, 0);
    expect(reply.eager).toBe(true);
    expect(counts.queued).toBe(14);
  });

  it('out of the last rounds prefetches, and replies without the eager flag', () => {
    const { book } = setUp(100, [6, 6]);
    book.startRun(0, 'a', 0);
    expect(book.freeOnly).toBe(false);
    const items = book.handOut(0, book.allowance(0, 36), 0);
    // 6 + ceil(6 * 100 / 12) = 56, so the whole ask.
    expect(items).toHaveLength(36);
    expect(book.reply(items, 36, 0).eager).toBeUndefined();
  });

  it('tells a run when nothing is left in the queue', () => {
    const { book } = setUp(8, [6]);
    book.startRun(0, 'a', 0);
    const first = book.handOut(0, 6, 0);
    expect(book.reply(first, 6, 0).dry).toBeUndefined();
    const rest = book.handOut(0, 6, 0);
    expect(pages(rest)).toEqual([6, 7]);
    expect(book.reply(rest, 6, 0)).toEqual({ items: rest, stop: false, abort: false, dry: true });
  });

  it('drops a report from a run whose lease expired while the report was on its way', () => {
    const { book, store, counts } = setUp(10, [6, 6]);
    book.startRun(0, 'old', 0);
    book.handOut(0, 3, 0);
    book.markStarted(0, [0, 1]);
    // Run 0 goes silent past its lease: its URLs go back to the queue, the started ones
    // logged as lost (by the real store), and another run gets them.
    expect(book.expire(2_001)).toBe(true);
    expect(store.takenBack).toEqual([0, 1, 2]);
    expect(book.current(0, 'old')).toBeNull();
    expect({ queued: counts.queued, out: counts.out }).toEqual({ queued: 10, out: 0 });
    book.startRun(1, 'new', 2_001);
    expect(pages(book.handOut(1, 3, 2_001))).toEqual([0, 1, 2]);
    // The old run's report arrives now: it is dropped, so URL 0 cannot get two Results.
    expect(book.takeReport(0, 0)).toBeNull();
    expect(counts.out).toBe(3);
    const h = book.takeReport(1, 0);
    // The lost attempt counts: attempts 1 (started, lost) + 1 (this one, reported).
    expect(h).toMatchObject({ shard: 1, url: 'http://h/0', attempts: 2 });
    expect(book.takeReport(1, 0)).toBeNull();
    expect(counts.out).toBe(2);
  });

  it('takes back a restarted shard’s URLs and books its new run from zero', () => {
    const { book, counts, runLog } = setUp(10, [6]);
    book.startRun(0, 'r1', 0);
    book.handOut(0, 6, 0);
    book.takeBack(0, 100);
    expect(book.runs[0]).toMatchObject({ runId: null, held: 0 });
    book.startRun(0, 'r2', 100);
    expect(book.current(0, 'r1')).toBeNull();
    expect(book.current(0, 'r2')).toMatchObject({ runId: 'r2', held: 0, leaseUntil: 2_100 });
    expect(runLog).toEqual([
      [0, 'r1'],
      [0, null],
      [0, 'r2'],
    ]);
    expect(counts.queued).toBe(10);
    // A started mark of the old run changes nothing any more.
    book.markStarted(0, [0]);
    expect(book.takeReport(0, 0)).toBeNull();
  });

  it('counts a started fetch once, however often it is reported', () => {
    const { book, store } = setUp(5, [6]);
    book.startRun(0, 'a', 0);
    book.handOut(0, 2, 0);
    book.markStarted(0, [0]);
    book.markStarted(0, [0, 0]);
    expect(store.rows.get(0)?.attempts).toBe(1);
    expect(book.takeReport(0, 0)).toMatchObject({ attempts: 1, started: true });
  });

  it('serves a parked ask once work can be handed out', async () => {
    const { book, store } = setUp(4, [6]);
    book.startRun(0, 'a', 0);
    book.handOut(0, 4, 0);
    const parked = book.park({
      shardIdx: 0,
      runId: 'a',
      outcomes: [],
      started: [],
      want: 6,
      inflight: 0,
      queued: 0,
      retiring: false,
    });
    book.takeBack(0, 10);
    book.startRun(0, 'a', 10);
    // A taken-back run's parked asks are forgotten; a new ask of the same run is served.
    const again = book.park({
      shardIdx: 0,
      runId: 'a',
      outcomes: [],
      started: [],
      want: 6,
      inflight: 0,
      queued: 0,
      retiring: false,
    });
    book.serveParked(20);
    const reply = await again;
    expect(pages(reply.items)).toEqual([0, 1, 2, 3]);
    expect(store.takenBack).toEqual([0, 1, 2, 3]);
    book.answerParked();
    void parked;
  });
});
