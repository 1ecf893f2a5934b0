import { afterEach, describe, expect, it, vi } from 'vitest';
import { UrlCounts } from '../../src/coordinator/counts';
import { HandoutBook } from '../../src/coordinator/handout-book';
import { AT_ONCE_SLACK_MS, TIMED_SLACK_MS } from '../../src/coordinator/host-limits';
import { HostTable, type Pacing } from '../../src/coordinator/hosts';
import type { JobRecord } from '../../src/coordinator/job-record';
import type { QueuedRow, Settled, UrlStore } from '../../src/coordinator/url-store';
import type { JobSpec } from '../../src/jobs/types';
import type { Sql } from '../../src/lib/sql';
import type { WorkItem } from '../../src/shard/protocol';

/** The URL table in memory: what the book asks of the real store, and nothing more. */
class MemoryStore {
  rows = new Map<
    number,
    { url: string; state: number; shard: number | null; attempts: number; host: number }
  >();
  takenBack: number[] = [];

  /** `hostOf(i)`: the host id of URL i (1 for all by default). */
  constructor(n: number, hostOf: (i: number) => number = () => 1) {
    for (let i = 0; i < n; i++) {
      const host = hostOf(i);
      this.rows.set(i, { url: `http://h/${i}`, state: 0, shard: null, attempts: 0, host });
    }
  }

  #row(idx: number): QueuedRow {
    const r = this.rows.get(idx);
    if (!r) throw new Error(`no row ${idx}`);
    return { idx, url: r.url, norm: r.url, host_id: r.host, attempts: r.attempts };
  }

  queuedExcept(excluded: readonly number[], limit: number): QueuedRow[] {
    const out: QueuedRow[] = [];
    for (const [idx, r] of this.rows) {
      if (out.length >= limit) break;
      if (r.state === 0 && !excluded.includes(r.host)) out.push(this.#row(idx));
    }
    return out;
  }

  markOut(shard: number, ids: readonly number[]): void {
    for (const idx of ids) {
      const r = this.rows.get(idx);
      if (r) Object.assign(r, { state: 1, shard });
    }
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
    const n = new Map<number, number>();
    for (const r of this.rows.values()) if (r.state === 1) n.set(r.host, (n.get(r.host) ?? 0) + 1);
    return [...n].map(([host_id, count]) => ({ host_id, n: count }));
  }
}

/** A hosts table of hosts `h<id>` with no stored state (robots rules as `robots` gives). */
const hostTableSql = (robots: Record<number, string> = {}) =>
  ({
    one: (query: string, id: number) =>
      query.includes('WHERE id = ?')
        ? { host: `h${id}`, lim: null, blocked_until: 0, robots: robots[id] ?? null }
        : null,
    all: () => [],
    run: () => 0,
  }) as unknown as Sql;
const hostSql = hostTableSql();

const spec = (concurrency: number) =>
  ({ concurrency, perHostConcurrency: concurrency, respectRobots: false }) as JobSpec;

/** How a test's book paces hosts and which host each URL is on. */
interface Options {
  pacing?: Pacing;
  hostOf?: (i: number) => number;
  respectRobots?: boolean;
  robots?: Record<number, string>;
}

function setUp(n: number, slots: number[], opts: Options = {}) {
  const concurrency = slots.reduce((a, b) => a + b, 0);
  const store = new MemoryStore(n, opts.hostOf);
  const respectRobots = opts.respectRobots ?? false;
  const hosts = new HostTable(
    opts.robots ? hostTableSql(opts.robots) : hostSql,
    concurrency,
    concurrency,
    respectRobots,
    opts.pacing,
  );
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
      spec: { ...spec(concurrency), respectRobots },
      record,
      store: store as unknown as UrlStore,
      hosts,
      counts,
      settle: (list) => settled.push(...list),
      leaseMs: 2_000,
    },
    slots.map((s) => ({ slots: s, run_id: null })),
  );
  return { book, store, counts, runLog, hosts };
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

/** Each item as [idx (or robots:hostId), its notBefore or null when it may start at once]. */
const starts = (items: WorkItem[]) =>
  items.map((i) => [i.type === 'page' ? i.idx : `robots:${i.hostId}`, i.notBefore ?? null]);

const T = 1_000_000;
/** perHostDelayMs 300 with a run lease of 2 s: URLs are handed out at most 500 ms ahead. */
const PACED: Pacing = { delayMs: 300, horizonMs: 500, resumedAt: null };
const rules = (crawlDelayMs?: number) =>
  JSON.stringify({ allow: [], disallow: [], ...(crawlDelayMs ? { crawlDelayMs } : {}) });

// The next start to a host counts from the latest time the last one may have happened: ONCE ms
// after its hand-out for a URL that starts at once (it travels to its shard first), TIMED ms
// after its scheduled start for one that waits for it (host-limits.ts, startedBy).
const ONCE = AT_ONCE_SLACK_MS;
const TIMED = TIMED_SLACK_MS;
describe('HandoutBook: pacing request starts per host', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('schedules one host’s starts one delay apart across runs, at most one waiting at a time', () => {
    const { book, counts } = setUp(8, [6, 6], { pacing: PACED });
    book.startRun(0, 'a', T);
    book.startRun(1, 'b', T);
    expect(starts(book.handOut(0, 6, T))).toEqual([[0, null]]);
    // The other run gets nothing until the host's next start is within one delay.
    expect(book.handOut(1, 6, T + ONCE - 1)).toEqual([]);
    const s1 = T + ONCE + 300;
    expect(starts(book.handOut(1, 6, T + ONCE))).toEqual([[1, s1]]);
    expect(book.handOut(1, 6, T + ONCE)).toEqual([]);
    expect(book.handOut(0, 6, s1 + TIMED - 1)).toEqual([]);
    const s2 = s1 + TIMED + 300;
    expect(starts(book.handOut(0, 6, s1 + TIMED))).toEqual([[2, s2]]);
    expect(starts(book.handOut(1, 6, s2 + TIMED))).toEqual([[3, s2 + TIMED + 300]]);
    expect(counts.queued).toBe(4);
    // Paced hosts can refuse: each URL goes to a free connection, and finished pages report at once.
    expect(book.freeOnly).toBe(true);
    expect(book.reply([], 6, s2 + TIMED).eager).toBe(true);
  });

  it('paces two hosts independently: both start at once', () => {
    const { book } = setUp(8, [6, 6], { pacing: PACED, hostOf: (i) => (i < 4 ? 1 : 2) });
    book.startRun(0, 'a', T);
    expect(starts(book.handOut(0, 6, T))).toEqual([
      [0, null],
      [4, null],
    ]);
    expect(starts(book.handOut(0, 6, T + ONCE))).toEqual([
      [1, T + ONCE + 300],
      [5, T + ONCE + 300],
    ]);
  });

  it('hands out a URL of a host paced beyond the horizon no earlier than the horizon before its start', () => {
    const { book } = setUp(4, [6], { pacing: { ...PACED, delayMs: 2_000 } });
    book.startRun(0, 'a', T);
    expect(starts(book.handOut(0, 6, T))).toEqual([[0, null]]);
    // Handed out 500 ms (the horizon) before its start.
    expect(book.handOut(0, 6, T + ONCE + 1_499)).toEqual([]);
    expect(starts(book.handOut(0, 6, T + ONCE + 1_500))).toEqual([[1, T + ONCE + 2_000]]);
  });

  it('a robots.txt Crawl-delay raises its host’s delay; another host keeps the job’s', () => {
    const { book } = setUp(8, [6], {
      pacing: { ...PACED, delayMs: 100 },
      hostOf: (i) => (i < 4 ? 1 : 2),
      respectRobots: true,
      robots: { 1: rules(400), 2: rules() },
    });
    book.startRun(0, 'a', T);
    expect(starts(book.handOut(0, 6, T))).toEqual([
      [0, null],
      [4, null],
    ]);
    expect(starts(book.handOut(0, 6, T + ONCE))).toEqual([
      [1, T + ONCE + 400],
      [5, T + ONCE + 100],
    ]);
  });

  it('ignores a stored Crawl-delay when the job does not respect robots.txt', () => {
    const { book } = setUp(4, [6], { pacing: PACED, robots: { 1: rules(5_000) } });
    book.startRun(0, 'a', T);
    expect(starts(book.handOut(0, 6, T))).toEqual([[0, null]]);
    expect(starts(book.handOut(0, 6, T + ONCE))).toEqual([[1, T + ONCE + 300]]);
  });

  it('paces the robots.txt fetch like a page, and the pages after it by its Crawl-delay', () => {
    const { book, hosts } = setUp(4, [6], { pacing: PACED, respectRobots: true });
    book.startRun(0, 'a', T);
    expect(starts(book.handOut(0, 6, T))).toEqual([['robots:1', null]]);
    hosts.setRobots(hosts.get(1), JSON.parse(rules(1_000)));
    // The first page starts one Crawl-delay after robots.txt may have: handed out 500 ms (the
    // horizon) before that.
    expect(book.handOut(0, 6, T + ONCE + 499)).toEqual([]);
    expect(starts(book.handOut(0, 6, T + ONCE + 500))).toEqual([[0, T + ONCE + 1_000]]);
  });

  it('after a restart, starts a host one delay after a start scheduled before it may have', () => {
    const { book } = setUp(4, [6], { pacing: { ...PACED, resumedAt: T } });
    book.startRun(0, 'a', T);
    // A start scheduled before the restart lies up to 300 ms (one lookahead) after it.
    const by = T + Math.max(ONCE, 300 + TIMED);
    expect(book.handOut(0, 6, by - 1)).toEqual([]);
    expect(starts(book.handOut(0, 6, by))).toEqual([[0, by + 300]]);
  });

  it('a Retry-After hold comes on top of the pacing', () => {
    // Concurrency 12: the 429's halved limit (6) still lets the host take these URLs.
    const { book, hosts } = setUp(4, [6, 6], { pacing: PACED });
    book.startRun(0, 'a', T);
    expect(starts(book.handOut(0, 6, T))).toEqual([[0, null]]);
    hosts.throttle(hosts.get(1), 1_000, T + 50);
    // Pacing alone would have opened the host at T + ONCE; it opens when the hold ends.
    expect(book.handOut(0, 6, T + 1_049)).toEqual([]);
    expect(starts(book.handOut(0, 6, T + 1_050))).toEqual([[1, null]]);
    expect(starts(book.handOut(0, 6, T + 1_050 + ONCE))).toEqual([[2, T + 1_050 + ONCE + 300]]);
  });

  it('serves a parked ask when its paced host opens, not at the end of the park', async () => {
    vi.useFakeTimers({ now: T });
    const { book } = setUp(4, [6, 6], { pacing: PACED });
    book.startRun(0, 'a', T);
    book.startRun(1, 'b', T);
    book.handOut(0, 6, T);
    let reply: WorkItem[] | null = null;
    const ask = { shardIdx: 1, runId: 'b', outcomes: [], started: [], want: 36 };
    void book.park({ ...ask, inflight: 0, queued: 0, retiring: false }).then((r) => {
      reply = r.items;
    });
    await vi.advanceTimersByTimeAsync(ONCE - 1);
    expect(reply).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(starts(reply ?? [])).toEqual([[1, T + ONCE + 300]]);
  });
});
