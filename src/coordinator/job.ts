import type { CreateOutcome, JobView, NewJob } from '../jobs/types';
import type { Sql } from '../lib/sql';
import { type RendererEnv, rendererFor } from '../render/renderer-pool';
import type { WorkOutcome } from '../shard/protocol';
import { planShards } from '../shard/protocol';
import { CALLBACK_DUE, callbackWanted } from './callback';
import { type CompareState, Comparison, type PriorPage } from './comparison';
import { pendingOf, settlementOf, UrlCounts } from './counts';
import { JobEnding } from './ending';
import { HandoutBook } from './handout-book';
import { HostTable, insertHosts } from './hosts';
import { JobRecord } from './job-record';
import {
  type AttemptsPage,
  attemptRecord,
  type DeadlineResult,
  deadlineLocked,
  inFlightOf,
  JobStats,
  jobView,
  type ResultsPage,
  resultsPage,
} from './job-view';
import { applyOutcomes, writeSettled } from './outcomes';
import { failureLimit } from './policy';
import { type ResultFilter, type Settled, UrlStore } from './url-store';
import { hostOf } from './url-text';

/** The jobs a comparison reads from (the JobCoordinator namespace). */
interface PriorSource {
  getByName(id: string): {
    priorPage(after: number, owner?: string): Promise<PriorPage | null>;
  };
}

/** What a loaded job needs from the Durable Object that holds it. */
interface JobHost {
  /** A run silent this long is presumed dead (SHARD_LEASE_MS). */
  leaseMs: number;
  /** The housekeeping cadence while the job runs. */
  tickMs: number;
  /** URLs an ending settles per turn of the thread. */
  chunkRows: number;
  transact: (fn: () => void) => void;
  abortRun: (idx: number, runId: string) => Promise<void>;
  wantAlarm: (at: number) => void;
  /** Where the job's pages are rendered (the environment); absent: no renderer is told. */
  renderers?: RendererEnv;
}

/** Stores a new job: its URLs (duplicates dropped), hosts, shard runs table and row. */
export function storeNewJob(sql: Sql, job: NewJob, now: number): void {
  const hostIds = new Map<string, number>();
  const total = new UrlStore(sql).insert(job.urls, job.norms, (norm) => {
    const host = hostOf(norm);
    let id = hostIds.get(host);
    if (id === undefined) {
      id = hostIds.size + 1;
      hostIds.set(host, id);
    }
    return id;
  });
  insertHosts(sql, hostIds);
  const duplicates = job.urls.length - total;
  const { id: jobId, owner, spec, bodyHash } = job;
  const fields = { jobId, owner, spec, bodyHash, total, duplicates };
  JobRecord.insert(sql, fields, planShards(job.spec.concurrency), now);
}

/**
 * A job loaded from its tables: the parts that hold its state, wired together. Counts, stats
 * and hand-outs in memory are rebuilt from the tables here and follow every write after.
 */
export class Job {
  readonly record: JobRecord;
  readonly store: UrlStore;
  readonly hosts: HostTable;
  readonly counts = new UrlCounts();
  readonly stats = new JobStats();
  readonly book: HandoutBook;
  readonly ending: JobEnding;
  /** The comparison with the job named by `compareWith`; null without one. */
  readonly comparison: Comparison | null;
  readonly #host: JobHost;
  readonly #waiters = new Set<() => void>();

  constructor(sql: Sql, record: JobRecord, host: JobHost) {
    this.record = record;
    this.#host = host;
    const spec = record.spec;
    this.store = new UrlStore(sql);
    this.hosts = new HostTable(sql, spec.perHostConcurrency, spec.concurrency, spec.respectRobots, {
      delayMs: spec.perHostDelayMs,
      horizonMs: host.leaseMs / 4,
      // Loaded after URLs were handed out (a restart): pacing resumes from now (see hosts.ts).
      resumedAt: record.row.started_at === null ? null : Date.now(),
    });
    this.hosts.setInUse(this.store.outPerHost());
    const compare = record.row.compare;
    this.comparison =
      compare === null ? null : new Comparison(sql, JSON.parse(compare) as CompareState, spec);
    this.#recount();
    this.book = new HandoutBook(
      {
        spec,
        record,
        store: this.store,
        hosts: this.hosts,
        counts: this.counts,
        settle: (list) => {
          this.settle(list);
          this.finishIfDone();
        },
        leaseMs: host.leaseMs,
        validators: this.comparison
          ? (idxs) => this.comparison?.validators(idxs) ?? new Map()
          : undefined,
      },
      record.loadRuns(),
    );
    this.book.load(this.store.outRows());
    this.ending = new JobEnding({
      record,
      store: this.store,
      counts: this.counts,
      book: this.book,
      transact: host.transact,
      abortRun: host.abortRun,
      wantAlarm: host.wantAlarm,
      tickMs: host.tickMs,
      chunkRows: host.chunkRows,
      onTerminal: () => this.#afterTerminal(),
      endRenders: () => this.endRenders(),
    });
  }

  get spec() {
    return this.record.spec;
  }

  /** The job as the API shows it. */
  view(): JobView {
    const inFlight = inFlightOf(this.book.runs, this.counts.out);
    const { row, redrives } = this.record;
    const changes = this.comparison?.changes(row.total) ?? null;
    return jobView(row, this.spec, this.counts, inFlight, this.stats, { redrives, changes });
  }

  /** Applies a run's outcomes (see applyOutcomes); the cause, if the failure limit was passed. */
  apply(shardIdx: number, outcomes: readonly WorkOutcome[], now: number): string | null {
    const deps = {
      spec: this.spec,
      store: this.store,
      hosts: this.hosts,
      counts: this.counts,
      book: this.book,
      settle: (list: readonly Settled[]) => this.settle(list),
      wantAlarm: this.#host.wantAlarm,
      failureLimit: failureLimit(this.spec, this.record.row.total),
    };
    return applyOutcomes(deps, shardIdx, outcomes, now);
  }

  /** Writes Results (each URL's first only) and counts them. */
  settle(list: readonly Settled[]): void {
    const comparison = this.comparison;
    comparison?.annotate(list);
    writeSettled(this.store, this.counts, this.stats, list, comparison?.count.bind(comparison));
  }

  /**
   * The answer to a create() of the job already stored here: the same job for the same body
   * and owner (a repeated Idempotency-Key), else a conflict.
   */
  createdAgain(input: NewJob): CreateOutcome {
    const row = this.record.row;
    if (row.body_hash !== input.bodyHash || row.owner !== input.owner) {
      return { kind: 'conflict', message: 'this Idempotency-Key was used with a different body' };
    }
    const { total: accepted, duplicates } = row;
    return { kind: 'existing', view: this.view(), accepted, duplicates };
  }

  /**
   * Moves the deadline to `deadlineMs` after creation; one already past ends the job now
   * (timed out). Refused once the job is terminal or ending.
   */
  async moveDeadline(deadlineMs: number, now: number): Promise<DeadlineResult> {
    const locked = deadlineLocked(this.record);
    if (locked) return { ok: false, code: 'conflict', message: locked };
    const deadlineAt = this.record.row.created_at + deadlineMs;
    this.record.setDeadline(deadlineAt);
    if (deadlineAt <= now) await this.timeOut();
    else this.#host.wantAlarm(deadlineAt);
    return { ok: true, view: this.view() };
  }

  /** Ends the job as timed out: its deadline passed. */
  timeOut(): Promise<void> {
    const message = 'the job deadline passed before this URL settled';
    return this.ending.end({ status: 'timed_out', kind: 'deadline', message });
  }

  /** A page of the attempt log (see routes/attempts.ts), after (afterIdx, afterN). */
  attemptsPage(afterIdx: number, afterN: number, limit: number): AttemptsPage {
    const items = this.store.attemptsAfter(afterIdx, afterN, limit).map(attemptRecord);
    return { items, terminal: this.record.terminal };
  }

  /** A page of Results in settlement order after `afterSeq`, of those `filter` lets through. */
  resultsPage(afterSeq: number, limit: number, filter?: ResultFilter): ResultsPage {
    const { terminal } = this.record;
    const selectors = Object.keys(this.spec.extract.selectors);
    return resultsPage(this.store, afterSeq, limit, { terminal, selectors }, filter);
  }

  /**
   * Imports the compared job's Results page by page, as this job's owner reads them, until done
   * or the job ends. Each page is stored in one transaction, so a restart resumes after the
   * last page stored. Nothing to do for a job without `compareWith`.
   */
  async importPrior(jobs: PriorSource): Promise<void> {
    const c = this.comparison;
    const id = this.spec.compareWith;
    if (!c || !id) return;
    const { owner } = this.record.row;
    const source = jobs.getByName(id);
    while (!c.ready && !this.record.terminal && !this.record.ending) {
      const page = await source.priorPage(c.after, owner === 'admin' ? undefined : owner);
      this.#host.transact(() => c.importPage(page));
    }
  }

  /** Completes the job once every URL has its Result; true when the job is terminal. */
  finishIfDone(): boolean {
    if (this.record.terminal) return true;
    // An ending job takes its status from the ending, with its last chunk.
    if (this.record.ending) return false;
    if (this.counts.settled < this.record.row.total) return false;
    this.record.finish('completed', Date.now());
    this.#afterTerminal();
    return true;
  }

  /**
   * Tells the job's renderer that the job ended: its renders stop and their tabs close (the
   * browser too, when no other job has a tab open). Nothing for a job that renders no page. A
   * failure is logged, never thrown: the ending goes on without it (the renderer's idle close
   * is the safety net).
   */
  async endRenders(): Promise<void> {
    const renderers = this.#host.renderers;
    if (!renderers || !this.spec.render) return;
    const jobId = this.record.row.job_id;
    try {
      await rendererFor(renderers, jobId).endJob(jobId);
    } catch (err) {
      console.error('ending the renders of the job failed', err);
    }
  }

  /** Resolves when the job is terminal or after `ms`, whichever comes first. */
  async untilEnd(ms: number): Promise<void> {
    if (this.record.terminal) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  #recount(): void {
    const c = this.counts;
    for (const r of this.store.countByState()) c.move(null, pendingOf(r.state), r.n);
    for (const r of this.store.countResults()) c.move(null, settlementOf(r.ok !== 0, r.kind), r.n);
    for (const s of this.store.fetchSamples()) this.stats.record(s.d, s.b);
  }

  #afterTerminal(): void {
    this.book.answerParked();
    for (const w of [...this.#waiters]) w();
    // Its browser tabs close now. An ending job told its renderer when it began; this second
    // word stops a page a shard sent in between.
    void this.endRenders();
    // The alarm then reports the end to the job index, delivers the callback and, after the
    // retention time, deletes the job (aftercare.ts).
    this.record.setIndexState('pending');
    const changes = this.comparison?.changes(this.record.row.total) ?? null;
    if (callbackWanted(this.spec, changes)) this.record.setCallbackState(CALLBACK_DUE);
    this.#host.wantAlarm(Date.now());
  }
}
