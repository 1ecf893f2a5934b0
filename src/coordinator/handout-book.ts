import type { JobSpec } from '../jobs/types';
import {
  ABORT,
  type ExchangeReply,
  type ExchangeRequest,
  STOP,
  type WorkItem,
} from '../shard/protocol';
import type { UrlCounts } from './counts';
import type { HostState, HostTable } from './hosts';
import type { JobRecord } from './job-record';
import { fairWant, inLastRounds } from './policy';
import { robotsGate } from './robots-gate';
import type { OutRow, QueuedRow, Settled, UrlStore } from './url-store';

/** One shard's current run, as the coordinator books it. */
export interface RunSlot {
  /** Its connections. */
  slots: number;
  /** The run it was started with; null while none runs. */
  runId: string | null;
  /** The run's lease: a run silent past this is presumed dead (see SHARD_LEASE_MS). */
  leaseUntil: number;
  /** URLs out with this run and not reported yet. */
  held: number;
}

/** A URL handed out to a run and not reported yet; rebuilt from the URL rows on load. */
interface Handout {
  shard: number;
  url: string;
  /** Attempts that ran, counting this one once it is known to have started. */
  attempts: number;
  /** The run said this fetch started (and `attempts` counts it, in SQL too). */
  started: boolean;
  hostId: number;
}

interface Parked {
  shardIdx: number;
  runId: string;
  want: number;
  resolve: (reply: ExchangeReply) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** What the book works with: the job's tables and counts. */
export interface BookDeps {
  spec: JobSpec;
  record: JobRecord;
  store: UrlStore;
  hosts: HostTable;
  counts: UrlCounts;
  /** Writes Results of URLs settled without a fetch (robots.txt denies them). */
  settle: (list: readonly Settled[]) => void;
  /** A run silent this long is presumed dead. */
  leaseMs: number;
  /** The previous validators of pages being handed out (a job with `compareWith`). */
  validators?: (idxs: number[]) => Map<number, { etag?: string; lastModified?: string }>;
}

/** A run reports at most this many started fetches a call; more is not believed. */
const MAX_STARTED_PER_CALL = 64;

/**
 * The hand-out book: which shard run holds which URLs. It hands work to runs (fair share,
 * per-host limits, robots), takes it back when a run dies or is replaced, and holds the asks
 * of idle runs (parked) until work frees up. Every hand-out is written to the URL rows first:
 * the book in memory only mirrors them.
 */
export class HandoutBook {
  readonly runs: RunSlot[];
  readonly #out = new Map<number, Handout>();
  readonly #d: BookDeps;
  #parked: Parked[] = [];
  /** Serves the parked asks when a host held back by time opens (see #armWake). */
  #wake: ReturnType<typeof setTimeout> | null = null;
  #wakeAt = 0;

  constructor(deps: BookDeps, runs: ReadonlyArray<{ slots: number; run_id: string | null }>) {
    this.#d = deps;
    const now = Date.now();
    this.runs = runs.map((r) => ({
      slots: r.slots,
      runId: r.run_id,
      leaseUntil: now + deps.leaseMs,
      held: 0,
    }));
  }

  /** Rebuilds the hand-outs from the URL rows (start-up). */
  load(rows: readonly OutRow[]): void {
    this.#out.clear();
    for (const r of rows) {
      this.#out.set(r.idx, {
        shard: r.shard,
        url: r.url,
        attempts: r.attempts,
        started: r.started === 1,
        hostId: r.host_id,
      });
      const run = this.runs[r.shard];
      if (run) run.held++;
    }
  }

  /** A run silent this long is presumed dead. */
  get leaseMs(): number {
    return this.#d.leaseMs;
  }

  /** The run a call names, if it is still that shard's current run. */
  current(shardIdx: number, runId: string): RunSlot | null {
    const run = this.runs[shardIdx];
    return run && run.runId === runId ? run : null;
  }

  /** Whether each URL should go to the first connection that frees up (see fairWant). */
  get freeOnly(): boolean {
    const { hosts, counts, spec } = this.#d;
    return !hosts.unconstrained || inLastRounds(counts.queued, counts.out, spec.concurrency);
  }

  /** How many URLs a run asking for `want` may get now. */
  allowance(shardIdx: number, want: number): number {
    const run = this.runs[shardIdx];
    if (!run) return 0;
    const { counts, spec } = this.#d;
    return fairWant(run, want, counts.queued, spec.concurrency, this.freeOnly);
  }

  /** Hands a run up to `want` queued URLs (and robots.txt fetches its hosts need first). */
  handOut(shardIdx: number, want: number, now: number): WorkItem[] {
    const items = this.#take(shardIdx, want, now);
    const validators = this.#d.validators;
    if (!validators || items.length === 0) return items;
    const pages = items.filter((i) => i.type === 'page');
    const known = validators(pages.map((p) => p.idx));
    for (const page of pages) Object.assign(page, known.get(page.idx));
    return items;
  }

  #take(shardIdx: number, want: number, now: number): WorkItem[] {
    const { hosts, counts, store } = this.#d;
    if (counts.queued <= 0 || want <= 0) return [];
    if (hosts.unconstrained) {
      const rows = store.takeInOrder(shardIdx, want);
      const items = rows.map((row) => this.#book(shardIdx, row, hosts.get(row.host_id), now));
      this.#counted(shardIdx, rows.length, now);
      return items;
    }
    const rows = store.queuedExcept(hosts.unavailable(now), want * 4 + 16);
    const items: WorkItem[] = [];
    const ids: number[] = [];
    const denied: Settled[] = [];
    for (const row of rows) {
      if (items.length >= want) break;
      const host = hosts.get(row.host_id);
      const robots = robotsGate(this.#d, shardIdx, row, host, denied, (item) =>
        this.#paced(item, host, now),
      );
      if (robots === 'wait') continue;
      if (robots !== 'go') {
        items.push(robots);
        continue;
      }
      if (!hosts.canTake(host, now)) continue;
      ids.push(row.idx);
      items.push(this.#book(shardIdx, row, host, now));
    }
    if (denied.length > 0) this.#d.settle(denied);
    if (ids.length > 0) {
      store.markOut(shardIdx, ids);
      this.#counted(shardIdx, ids.length, now);
    }
    return items;
  }

  /** Books a URL handed out (in SQL by the caller) to a run and makes its work item. */
  #book(shardIdx: number, row: QueuedRow, host: HostState, now: number): WorkItem {
    this.#d.hosts.claim(host);
    this.#out.set(row.idx, {
      shard: shardIdx,
      url: row.url,
      attempts: row.attempts,
      started: false,
      hostId: row.host_id,
    });
    return this.#paced({ type: 'page', idx: row.idx, url: row.norm, host: host.host }, host, now);
  }

  /**
   * Schedules a work item's request start on its host's pacing (see HostTable.scheduleStart);
   * one that may not start at once carries its start as `notBefore`.
   */
  #paced(item: WorkItem, host: HostState, now: number): WorkItem {
    const at = this.#d.hosts.scheduleStart(host, now);
    if (at > now) item.notBefore = at;
    return item;
  }

  /** Counts `n` URLs handed out to a run; the first hand-out starts the job. */
  #counted(shardIdx: number, n: number, now: number): void {
    if (n === 0) return;
    this.#d.counts.move('queued', 'out', n);
    const run = this.runs[shardIdx];
    if (run) run.held += n;
    this.#d.record.markRunning(now);
  }

  /** Counts the attempts a run started (see ExchangeRequest.started), durably. */
  markStarted(shardIdx: number, started: readonly number[]): void {
    const ids: number[] = [];
    for (const idx of started.slice(0, MAX_STARTED_PER_CALL)) {
      const h = this.#out.get(idx);
      if (!h || h.shard !== shardIdx || h.started) continue;
      h.started = true;
      h.attempts++;
      ids.push(idx);
    }
    if (ids.length > 0) this.#d.store.markStarted(ids);
  }

  /**
   * Takes a reported URL off the book and returns its hand-out with the reported attempt
   * counted (`ran`: the outcome says a request was made); null for a report of a URL this run
   * no longer holds (it was taken back and handed out again: only the newer hand-out may give
   * it a Result).
   */
  takeReport(shardIdx: number, idx: number, ran = true): Handout | null {
    const h = this.#out.get(idx);
    if (!h || h.shard !== shardIdx) return null;
    this.#out.delete(idx);
    // An outcome proves the fetch ran, whether or not its start was reported; one refused
    // before any request (a blocked target) un-counts a start reported for it.
    if (!h.started && ran) h.attempts++;
    else if (h.started && !ran) h.attempts--;
    this.#d.hosts.release(this.#d.hosts.get(h.hostId));
    this.#d.counts.move('out', null);
    const run = this.runs[shardIdx];
    if (run) run.held = Math.max(0, run.held - 1);
    return h;
  }

  /** Books a new run for a shard. */
  startRun(idx: number, runId: string, now: number): void {
    const run = this.runs[idx];
    if (!run) return;
    run.runId = runId;
    run.leaseUntil = now + this.#d.leaseMs;
    run.held = 0;
    this.#d.record.setRun(idx, runId);
  }

  /** Forgets a shard's run (it finished, retired or is gone). */
  stopRun(idx: number): void {
    const run = this.runs[idx];
    if (!run) return;
    run.runId = null;
    run.held = 0;
    this.#d.record.setRun(idx, null);
  }

  /** Puts the URLs out with a shard's run back in the queue and forgets the run. */
  takeBack(idx: number, now: number): void {
    const { store, counts, hosts } = this.#d;
    const back = store.takeBackFrom(idx, now);
    for (const i of back) this.#out.delete(i);
    counts.move('out', 'queued', back.length);
    hosts.resetPendingRobots(idx);
    this.stopRun(idx);
    this.#parked = this.#parked.filter((p) => p.shardIdx !== idx);
  }

  /** Takes back the URLs of every run whose lease ran out; true when any did. */
  expire(now: number): boolean {
    let any = false;
    this.runs.forEach((run, idx) => {
      if (!run.runId || run.leaseUntil > now) return;
      console.warn(`shard ${idx} run ${run.runId} missed its lease; its URLs go back to the queue`);
      this.takeBack(idx, now);
      any = true;
    });
    if (any) this.#d.hosts.setInUse(this.#d.store.outPerHost());
    return any;
  }

  /**
   * Forgets every run and hand-out at once (the job is ending: its URLs settle from the
   * table); parked asks are told to abort. Returns the runs that were going.
   */
  dropAll(): Array<{ idx: number; runId: string }> {
    const running: Array<{ idx: number; runId: string }> = [];
    this.runs.forEach((run, idx) => {
      if (run.runId) running.push({ idx, runId: run.runId });
      run.runId = null;
      run.held = 0;
    });
    this.#out.clear();
    this.#d.hosts.clearInUse();
    this.answerParked(ABORT);
    return running;
  }

  /** Holds an idle run's ask (up to a quarter of its lease) until work can be handed out. */
  park(req: ExchangeRequest): Promise<ExchangeReply> {
    return new Promise((resolve) => {
      const entry: Parked = {
        shardIdx: req.shardIdx,
        runId: req.runId,
        want: req.want,
        resolve,
        timer: setTimeout(() => {
          this.#parked = this.#parked.filter((p) => p !== entry);
          resolve({ items: [], stop: false, abort: false });
        }, this.#d.leaseMs / 4),
      };
      this.#parked.push(entry);
      this.#armWake(Date.now());
    });
  }

  /** Hands queued work to parked asks, in the order they came. */
  serveParked(now: number): void {
    if (this.#parked.length === 0 || this.#d.counts.queued <= 0) return;
    for (const p of [...this.#parked]) {
      if (!this.current(p.shardIdx, p.runId)) continue;
      const want = this.allowance(p.shardIdx, p.want);
      if (want <= 0) continue;
      const items = this.handOut(p.shardIdx, want, now);
      if (items.length === 0) break;
      clearTimeout(p.timer);
      this.#parked = this.#parked.filter((x) => x !== p);
      p.resolve(this.reply(items, p.want, now));
    }
    this.#armWake(now);
  }

  /**
   * Makes sure the parked asks are served when the next host held back by time opens (its
   * pacing lets the next start be handed out, or its Retry-After ends): nothing else would
   * call until a park times out. One timer; it is only moved earlier.
   */
  #armWake(now: number): void {
    if (this.#parked.length === 0) return;
    const at = this.#d.hosts.nextOpening(now);
    if (at === null || (this.#wake !== null && this.#wakeAt <= at)) return;
    if (this.#wake !== null) clearTimeout(this.#wake);
    this.#wakeAt = at;
    this.#wake = setTimeout(() => {
      this.#wake = null;
      this.serveParked(Date.now());
    }, at - now);
  }

  /** Answers every parked ask with `reply` (the job ended, or is ending). */
  answerParked(reply: ExchangeReply = STOP): void {
    for (const p of this.#parked.splice(0)) {
      clearTimeout(p.timer);
      p.resolve(reply);
    }
  }

  /** A reply that hands out items and tells the run which hosts are held back. */
  reply(items: WorkItem[], want: number, now: number): ExchangeReply {
    const reply: ExchangeReply = { items, stop: false, abort: false };
    const holds = this.#d.hosts.holds(now);
    if (holds.length > 0) reply.holds = holds;
    // Only host limits and the last rounds make a finished fetch free a slot another URL
    // waits for.
    const queued = this.#d.counts.queued;
    if (items.length < want && queued > 0 && this.freeOnly) reply.eager = true;
    if (queued === 0) reply.dry = true;
    return reply;
  }
}
