import { DurableObject } from 'cloudflare:workers';
import { deleteBodies } from '../src/bodies/delete-bodies';
import { aftercare, retentionMs } from '../src/coordinator/aftercare';
import { type PriorPage, readPriorPage } from '../src/coordinator/comparison';
import { exchange } from '../src/coordinator/exchange';
import { Job, storeNewJob } from '../src/coordinator/job';
import { JobRecord } from '../src/coordinator/job-record';
import type { DeadlineResult } from '../src/coordinator/job-view';
import { COORDINATOR_MIGRATIONS } from '../src/coordinator/migrations';
import { type RedriveSource, redriveSource } from '../src/coordinator/redrive';
import { probeRuns, type ShardPort, shardPort, startRuns } from '../src/coordinator/shard-runs';
import type { ResultFilter } from '../src/coordinator/url-store';
import { userAgent } from '../src/fetch/user-agent';
import type { CreateOutcome, ErrorKind, JobView, NewJob } from '../src/jobs/types';
import { Sql } from '../src/lib/sql';
import { blockedTarget } from '../src/lib/ssrf';
import { ABORT, type ExchangeReply, type ExchangeRequest } from '../src/shard/protocol';

/** Default for SHARD_LEASE_MS: a silent shard run is presumed dead after this long. */
const DEFAULT_LEASE_MS = 20_000;
/** Housekeeping cadence (lease expiry, retries, deadline) while a job runs, at most. */
const MAX_TICK_MS = 5_000;
/**
 * Default for SETTLE_CHUNK_ROWS: URLs an ending job settles per turn of the thread, so reads
 * and shard calls that come during the ending of a large job wait one chunk, not all of it.
 */
const DEFAULT_CHUNK = 1_000;

/** Settings wrangler.toml does not declare: SETTLE_CHUNK_ROWS (tests), secret WEBHOOK_SECRET. */
type CoordinatorEnv = Env & { SETTLE_CHUNK_ROWS?: string; WEBHOOK_SECRET?: string };

/**
 * One job: its spec, one row per URL, the results, and the alarm that drives retries, run
 * leases and the deadline. It is the single source of truth; shards only borrow URLs. The
 * parts live in src/coordinator/ (docs/ARCHITECTURE.md); this class is their RPC surface.
 */
export class JobCoordinator extends DurableObject<CoordinatorEnv> {
  readonly #sql: Sql;
  #job: Job | null = null;
  #alarmAt: number | null = null;
  /** Runs remembered from storage at load and not yet asked whether they survived. */
  #unprobed = false;
  /**
   * The first call after the object (re)starts arms the alarm at once (see #woke); the
   * constructor itself never sets an alarm.
   */
  #tickOnWake = false;
  readonly #leaseMs: number;
  readonly #tickMs: number;
  readonly #chunkRows: number;
  readonly #shards: ShardPort;

  constructor(ctx: DurableObjectState, env: CoordinatorEnv) {
    super(ctx, env);
    this.#leaseMs = Number(env.SHARD_LEASE_MS) || DEFAULT_LEASE_MS;
    this.#chunkRows = Math.max(1, Math.floor(Number(env.SETTLE_CHUNK_ROWS) || DEFAULT_CHUNK));
    this.#tickMs = Math.min(MAX_TICK_MS, this.#leaseMs);
    this.#sql = new Sql(ctx.storage.sql);
    this.#shards = shardPort(env.FETCH_SHARD, () => this.#job?.record.row.job_id ?? '');
    void ctx.blockConcurrencyWhile(async () => {
      // An object that never held a job (or was purged) stays without tables: reading an
      // unknown id writes nothing. create() migrates.
      if (!this.#sql.hasTable('_migrations')) return;
      this.#sql.migrate(COORDINATOR_MIGRATIONS);
      this.#load();
      this.#alarmAt = await ctx.storage.getAlarm();
      // Every job has an alarm until it is purged (aftercare.ts): one without is armed.
      if (this.#job && this.#alarmAt === null) this.#tickOnWake = true;
    });
  }

  /** Creates the job from validated input; the same body hash again returns the same job. */
  async create(input: NewJob): Promise<CreateOutcome> {
    const existing = this.#job;
    if (existing) return existing.createdAgain(input);
    const now = Date.now();
    this.#sql.migrate(COORDINATOR_MIGRATIONS);
    this.ctx.storage.transactionSync(() => storeNewJob(this.#sql, input, now));
    const job = this.#load();
    if (!job) throw new Error('the job just stored could not be loaded');
    // The shards start in this same turn (their hand-outs commit with the job), a commit and an
    // alarm sooner than from a tick; a job with compareWith first imports, from its alarm.
    if (job.comparison) this.#wantAlarm(now);
    else void this.#startRuns(job, now);
    this.#wantAlarm(Math.min(now + this.#tickMs, job.record.row.deadline_at ?? Infinity));
    const { total: accepted, duplicates } = job.record.row;
    return { kind: 'created', view: job.view(), accepted, duplicates };
  }

  // Every read and command takes the caller's `owner` when it is an API key: a job of another
  // owner answers as if absent (null). The admin passes none.

  /** The job's status, counts and stats; null when no job lives here. */
  async view(owner?: string): Promise<JobView | null> {
    return this.#woke(owner)?.view() ?? null;
  }

  /** Resolves when the job is terminal or after `ms`, whichever comes first. */
  async waitForEnd(ms: number, owner?: string): Promise<JobView | null> {
    const job = this.#woke(owner);
    if (!job) return null;
    await job.untilEnd(ms);
    return job.view();
  }

  /** A page of the attempt log (see routes/attempts.ts), after (afterIdx, afterN). */
  async attemptLog(afterIdx: number, afterN: number, limit: number, owner?: string) {
    return this.#woke(owner)?.attemptsPage(afterIdx, afterN, limit) ?? null;
  }

  /** A page of results in settlement order, after sequence number `afterSeq`. */
  async results(afterSeq: number, limit: number, owner?: string, filter?: ResultFilter) {
    return this.#woke(owner)?.resultsPage(afterSeq, limit, filter) ?? null;
  }

  /**
   * Cancels the job: in-flight fetches are aborted, unsettled URLs get kind `cancelled`. It
   * answers once the job is terminal; a job already ending (deadline, failFast, an earlier
   * cancel) ends as that, and a terminal job is left alone.
   */
  async cancel(owner?: string): Promise<JobView | null> {
    const job = this.#woke(owner);
    if (!job) return null;
    if (!job.record.terminal) {
      const message = 'the job was cancelled';
      await job.ending.end({ status: 'cancelled', kind: 'cancelled', message });
    }
    return job.view();
  }

  /** Moves the whole-job deadline (counted from creation), earlier or later. */
  async setDeadline(deadlineMs: number, owner?: string): Promise<DeadlineResult> {
    const job = this.#woke(owner);
    if (!job) return { ok: false, code: 'not_found', message: 'no such job' };
    return job.moveDeadline(deadlineMs, Date.now());
  }

  /** The URLs and spec a redrive of this job takes (redrive.ts); refused while it runs. */
  async redriveSource(kinds: readonly ErrorKind[] | null, owner?: string): Promise<RedriveSource> {
    return redriveSource(this.#woke(owner), kinds);
  }

  /** A page of this terminal job's Results for a job compared with it; null: not readable. */
  async priorPage(after: number, owner?: string): Promise<PriorPage | null> {
    const job = this.#woke(owner);
    return job?.record.terminal ? readPriorPage(this.#sql, job.spec, after) : null;
  }

  /** Records a job that redrives this one (shown in its view's `redrives`). */
  async addRedrive(id: string): Promise<void> {
    this.#job?.record.addRedrive(id, Date.now());
  }

  /**
   * Deletes the job now: its index entry and Idempotency-Key, then (its runs aborted) all of
   * its storage. Every call after answers as for an unknown job. False when there was none.
   */
  async purge(owner?: string): Promise<boolean> {
    const job = this.#woke(owner);
    if (!job) return false;
    await this.#purge(job);
    return true;
  }

  /**
   * Called by shards: takes their finished outcomes, hands out more URLs. An idle shard's call
   * is held (up to a quarter of the lease) while work exists that cannot be handed out yet.
   */
  async exchange(req: ExchangeRequest): Promise<ExchangeReply> {
    const job = this.#woke();
    if (!job) return ABORT;
    return exchange(job, req, {
      leaseMs: this.#leaseMs,
      transact: (fn) => this.ctx.storage.transactionSync(fn),
      startRuns: (now) => void this.#startRuns(job, now),
    });
  }

  /** Drives retries, run leases, the deadline and the callback; always re-arms itself. */
  async alarm(): Promise<void> {
    this.#tickOnWake = false;
    this.#alarmAt = null;
    try {
      await this.#tick();
    } catch (err) {
      console.error('coordinator alarm failed', err);
      this.#wantAlarm(Date.now() + this.#tickMs);
    }
  }

  /** Loads the job stored here (start-up, and right after it is created). */
  #load(): Job | null {
    const record = JobRecord.load(this.#sql);
    if (!record) return null;
    const job = new Job(this.#sql, record, {
      leaseMs: this.#leaseMs,
      tickMs: this.#tickMs,
      chunkRows: this.#chunkRows,
      transact: (fn) => this.ctx.storage.transactionSync(fn),
      abortRun: this.#shards.abort,
      wantAlarm: (at) => this.#wantAlarm(at),
      renderers: this.env,
    });
    this.#job = job;
    const live = !record.terminal && !record.ending;
    this.#unprobed = live && job.book.runs.some((r) => r.runId !== null);
    // Woken after a restart (by a read or its alarm): find out at once which runs survived,
    // or finish an ending that the restart cut off.
    if (this.#unprobed || record.ending) this.#tickOnWake = true;
    return job;
  }

  #startRuns(job: Job, now: number): Promise<void> {
    const settings = {
      allowPrivate: this.env.ALLOW_PRIVATE_TARGETS === 'true',
      userAgent: userAgent(this.env.USER_AGENT_CONTACT),
      wantAlarm: (at: number) => this.#wantAlarm(at),
    };
    return startRuns(job, this.#shards, settings, now).catch((err: unknown) =>
      console.error('start failed', err),
    );
  }

  /**
   * The job, if one lives here and `owner` (when given) owns it. Arms the alarm now if loading
   * found work that must not wait for it (see #tickOnWake).
   */
  #woke(owner?: string): Job | null {
    const job = this.#job;
    if (!job || (owner !== undefined && job.record.row.owner !== owner)) return null;
    if (this.#tickOnWake) {
      this.#tickOnWake = false;
      this.#wantAlarm(Date.now());
    }
    return job;
  }

  async #purge(job: Job): Promise<void> {
    // First, so a failure leaves the job whole and the purge is tried again (alarm or caller).
    if (job.spec.store?.bodies) await deleteBodies(this.env.BODIES, job.record.row.job_id);
    await this.env.JOB_INDEX.getByName('all').remove(job.record.row.job_id);
    // From here on every call answers as for an unknown job, shards' reports included.
    this.#job = null;
    const runs = job.book.runs.flatMap((r, idx) => (r.runId ? [{ idx, runId: r.runId }] : []));
    await Promise.allSettled(runs.map((r) => this.#shards.abort(r.idx, r.runId)));
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#alarmAt = null;
  }

  #wantAlarm(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  async #tick(): Promise<void> {
    const job = this.#job;
    if (!job) return;
    const { record, store, counts, book } = job;
    const now = Date.now();
    // An ending cut off by a restart (or still under way): finish it. Its terminal status
    // asks for the callback's alarm.
    if (record.ending) return job.ending.drive();
    if (record.terminal) {
      const next = await aftercare(
        {
          record,
          view: () => job.view(),
          webhookSecret: this.env.WEBHOOK_SECRET,
          isBlocked: this.env.ALLOW_PRIVATE_TARGETS === 'true' ? undefined : blockedTarget,
          reportEnd: (id, at) => this.env.JOB_INDEX.getByName('all').ended(id, at),
          retentionMs: retentionMs(this.env.JOB_RETENTION_SECONDS),
          purge: () => this.#purge(job),
        },
        now,
      );
      if (next !== null) this.#wantAlarm(next);
      return;
    }
    const deadline = record.row.deadline_at;
    if (deadline !== null && deadline <= now) return job.timeOut();
    counts.move('retrying', 'queued', store.promoteDue(now));
    if (this.#unprobed) {
      this.#unprobed = false;
      await probeRuns(job, this.#shards, now);
    }
    await job.importPrior(this.env.JOB_COORDINATOR);
    book.expire(now);
    book.serveParked(now);
    await this.#startRuns(job, now);
    const next = Math.min(now + this.#tickMs, store.nextDue() ?? Infinity, deadline ?? Infinity);
    this.#wantAlarm(Math.max(next, now + 10));
  }
}
