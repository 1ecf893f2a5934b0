import { DurableObject } from 'cloudflare:workers';
import { CALLBACK_MAX_ATTEMPTS, deliverCallback } from '../src/coordinator/callback';
import { type HostState, HostTable } from '../src/coordinator/hosts';
import {
  resultFromOutcome,
  resultWithoutFetch,
  SETTLE_CHUNK_PLAN_SQL,
  SETTLE_RANGE_SQL,
} from '../src/coordinator/result-body';
import { COORDINATOR_MIGRATIONS } from '../src/coordinator/schema';
import type { PageOutcome } from '../src/fetch/fetch-page';
import {
  type ErrorKind,
  type JobSpec,
  type JobStatus,
  type JobView,
  type Result,
  TERMINAL_STATUSES,
} from '../src/jobs/types';
import { backoffDelayMs, nextRetryDelayMs, parseRetryAfter } from '../src/lib/backoff';
import { LatencyHistogram } from '../src/lib/histogram';
import { randomToken } from '../src/lib/ids';
import { isRetryable, isThrottleSignal } from '../src/lib/retry-policy';
import { isAllowed } from '../src/lib/robots';
import { Sql } from '../src/lib/sql';
import {
  type ExchangeReply,
  type ExchangeRequest,
  PREFETCH_FACTOR,
  planShards,
  type ShardAssignment,
  type WorkItem,
  type WorkOutcome,
} from '../src/shard/protocol';

/** Default for SHARD_LEASE_MS: a silent shard run is presumed dead after this long. */
const DEFAULT_LEASE_MS = 20_000;
/** Housekeeping cadence (lease expiry, retries, deadline) while a job runs, at most. */
const MAX_TICK_MS = 5_000;
/**
 * The last this many rounds of a job's connections go to the first connection that frees up,
 * without prefetch (see #lastRound). Two measured best on the 1,000-URL benchmark.
 */
const LAST_ROUNDS = 2;
/** A shard that failed to start is tried again this soon (by the alarm). */
const START_RETRY_MS = 1_000;
/** Rows of JSON per insert statement stay well under the 2 MB value limit. */
const INSERT_CHUNK_CHARS = 1_000_000;
/**
 * Default for SETTLE_CHUNK_ROWS: URLs a terminating job settles per turn of the thread. A
 * chunk of 1,000 holds the object for about 6 ms, so reads and shard calls issued during the
 * ending of a 100,000-URL job wait tens of ms instead of the whole settle (about 0.5 s locally).
 */
const DEFAULT_SETTLE_CHUNK_ROWS = 1_000;

/** Settings the coordinator reads that wrangler.toml does not declare (tests set them). */
type CoordinatorEnv = Env & { SETTLE_CHUNK_ROWS?: string };

interface JobRow extends Record<string, SqlStorageValue> {
  job_id: string;
  spec: string;
  body_hash: string;
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  deadline_at: number | null;
  total: number;
  duplicates: number;
  callback_state: string | null;
  /** JSON of an Ending while the job is being terminated; NULL otherwise. */
  ending: string | null;
}

/** How a job being terminated ends: its terminal status and the error of unsettled URLs. */
interface Ending {
  status: JobStatus;
  kind: ErrorKind;
  message: string;
}

interface Counters {
  queued: number;
  leased: number;
  retrying: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

interface ShardSlot {
  slots: number;
  runId: string | null;
  leaseUntil: number;
  /** URLs leased to this shard and not reported yet. */
  held: number;
}

/** A URL handed to a shard and not reported yet; kept in memory, rebuilt from SQL on start. */
interface Lease {
  shard: number;
  url: string;
  /** Attempts that ran, counting this one once it is known to have started. */
  attempts: number;
  /** The shard said this lease's fetch started (and `attempts` counts it, in SQL too). */
  started: boolean;
  hostId: number;
}

/** A queued URL as a lease reads it. */
interface QueuedRow extends Record<string, SqlStorageValue> {
  idx: number;
  url: string;
  norm: string;
  host_id: number;
  attempts: number;
}

interface Settled {
  idx: number;
  result: Result;
}

/** 6 bound parameters a row, and a statement takes at most 100. */
const SETTLE_ROWS_PER_STATEMENT = 16;
/**
 * Id lists are bound one parameter each (`IN (?, ?, ...)`), which SQLite answers by primary
 * key; `IN (SELECT value FROM json_each(?))` made it scan the whole table.
 */
const MAX_IDS_PER_STATEMENT = 90;
/** A shard runs at most MAX_CONNECTIONS_PER_SHARD fetches; anything more is not believed. */
const MAX_STARTED_PER_CALL = 64;
const STARTED_IDS_PER_STATEMENT = 8;
const MARK_STARTED_SQL = `UPDATE urls SET attempts = attempts + 1, started = 1
  WHERE idx IN (${Array.from({ length: STARTED_IDS_PER_STATEMENT }, () => '?').join(', ')})`;

interface Parked {
  shardIdx: number;
  runId: string;
  want: number;
  resolve: (reply: ExchangeReply) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface CreateInput {
  jobId: string;
  spec: JobSpec;
  urls: string[];
  norms: string[];
  bodyHash: string;
}

export type CreateResult =
  | { kind: 'created' | 'existing'; view: JobView; accepted: number; duplicates: number }
  | { kind: 'conflict'; message: string };

export type DeadlineResult =
  | { ok: true; view: JobView }
  | { ok: false; code: 'not_found' | 'conflict'; message: string };

export interface AttemptRecord {
  idx: number;
  url: string;
  attempt: number;
  at: string;
  status: number | null;
  kind: string;
  message: string;
  durationMs: number;
}

export interface AttemptsPage {
  items: AttemptRecord[];
  terminal: boolean;
}

export interface ResultsPage {
  bodies: string[];
  lastSeq: number;
  terminal: boolean;
}

/** Leases the next queued URLs in queue order: parameters shard, count. */
const LEASE_IN_ORDER_SQL = `
  UPDATE urls SET state = 1, shard = ?1, started = 0
  WHERE idx IN (SELECT idx FROM urls WHERE state = 0 ORDER BY idx LIMIT ?2)
  RETURNING idx, url, norm, host_id, attempts`;

const ABORT: ExchangeReply = { items: [], stop: true, abort: true };
const STATE = { queued: 0, leased: 1, retrying: 2, settled: 3 } as const;

const isTerminal = (s: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(s);

/**
 * One job: its spec, one row per URL, the results, and the alarm that drives retries, lease
 * expiry and the deadline. It is the single source of truth; shards only borrow URLs.
 */
export class JobCoordinator extends DurableObject<Env> {
  readonly #sql: Sql;
  #job: JobRow | null = null;
  #spec: JobSpec | null = null;
  #hosts: HostTable | null = null;
  #counters: Counters = emptyCounters();
  #hist = new LatencyHistogram();
  #bytes = 0;
  #shards: ShardSlot[] = [];
  #parked: Parked[] = [];
  #waiters = new Set<() => void>();
  #alarmAt: number | null = null;
  #leases = new Map<number, Lease>();
  /** Shard runs read from storage at load, not yet asked whether they survived. */
  #unprobed = false;
  /**
   * The first call after the object (re)starts arms the alarm at once (see #woke); the
   * constructor itself never sets an alarm.
   */
  #tickOnWake = false;
  /** Set while the job is being terminated, chunk by chunk (persisted in `job.ending`). */
  #ending: Ending | null = null;
  /** Every URL up to this idx is settled: where the ending's next chunk starts. */
  #endingAfter = -1;
  /** The ending's chunk loop while it runs; later callers join it. */
  #endingRun: Promise<void> | null = null;
  readonly #leaseMs: number;
  readonly #tickMs: number;
  readonly #settleChunkRows: number;

  constructor(ctx: DurableObjectState, env: CoordinatorEnv) {
    super(ctx, env);
    this.#leaseMs = Number(env.SHARD_LEASE_MS) || DEFAULT_LEASE_MS;
    this.#settleChunkRows = Math.max(
      1,
      Math.floor(Number(env.SETTLE_CHUNK_ROWS) || DEFAULT_SETTLE_CHUNK_ROWS),
    );
    this.#tickMs = Math.min(MAX_TICK_MS, this.#leaseMs);
    this.#sql = new Sql(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.#sql.migrate(COORDINATOR_MIGRATIONS);
      this.#load();
      this.#alarmAt = await ctx.storage.getAlarm();
      if (this.#job && !isTerminal(this.#job.status) && this.#alarmAt === null) {
        this.#tickOnWake = true;
      }
    });
  }

  /** Creates the job from validated input; the same body hash again returns the same job. */
  async create(input: CreateInput): Promise<CreateResult> {
    const existing = this.#job;
    if (existing) {
      if (existing.body_hash !== input.bodyHash) {
        return { kind: 'conflict', message: 'this Idempotency-Key was used with a different body' };
      }
      return {
        kind: 'existing',
        view: this.#view(existing),
        accepted: existing.total,
        duplicates: existing.duplicates,
      };
    }
    const now = Date.now();
    this.ctx.storage.transactionSync(() => this.#insertJob(input, now));
    this.#load();
    // The shards start in this same turn: their leases commit with the job and their starts
    // go out with the reply, a storage commit and an alarm sooner than from the first tick.
    void this.#ensureShards(now).catch((err: unknown) => console.error('start failed', err));
    const deadline = this.#requireJob().deadline_at;
    this.#wantAlarm(Math.min(now + this.#tickMs, deadline ?? Number.POSITIVE_INFINITY));
    const job = this.#requireJob();
    return {
      kind: 'created',
      view: this.#view(job),
      accepted: job.total,
      duplicates: job.duplicates,
    };
  }

  /** The job's status, counts and stats; null when no job lives here. */
  async view(): Promise<JobView | null> {
    this.#woke();
    return this.#job ? this.#view(this.#job) : null;
  }

  /** Resolves when the job is terminal or after `ms`, whichever comes first. */
  async waitForEnd(ms: number): Promise<JobView | null> {
    this.#woke();
    const job = this.#job;
    if (!job) return null;
    if (!isTerminal(job.status)) {
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
    return this.#view(this.#requireJob());
  }

  /** A page of the attempt log (see routes/attempts.ts), after (afterIdx, afterN). */
  async attemptLog(afterIdx: number, afterN: number, limit: number): Promise<AttemptsPage | null> {
    this.#woke();
    const job = this.#job;
    if (!job) return null;
    const rows = this.#sql.all<{
      idx: number;
      n: number;
      url: string;
      at: number;
      status: number | null;
      kind: string;
      message: string;
      duration_ms: number;
    }>(
      `SELECT a.idx, a.n, u.url, a.at, a.status, a.kind, a.message, a.duration_ms
       FROM attempt_log a JOIN urls u ON u.idx = a.idx
       WHERE (a.idx, a.n) > (?, ?) ORDER BY a.idx, a.n LIMIT ?`,
      afterIdx,
      afterN,
      limit,
    );
    return {
      items: rows.map((r) => ({
        idx: r.idx,
        url: r.url,
        attempt: r.n,
        at: new Date(r.at).toISOString(),
        status: r.status,
        kind: r.kind,
        message: r.message,
        durationMs: r.duration_ms,
      })),
      terminal: isTerminal(job.status),
    };
  }

  /** A page of results in settlement order, after sequence number `afterSeq`. */
  async results(afterSeq: number, limit: number): Promise<ResultsPage | null> {
    this.#woke();
    const job = this.#job;
    if (!job) return null;
    const rows = this.#sql.all<{ seq: number; body: string }>(
      'SELECT seq, body FROM results WHERE seq > ? ORDER BY seq LIMIT ?',
      afterSeq,
      limit,
    );
    const last = rows.at(-1);
    return {
      bodies: rows.map((r) => r.body),
      lastSeq: last ? last.seq : afterSeq,
      terminal: isTerminal(job.status),
    };
  }

  /**
   * Cancels the job: in-flight fetches are aborted, unsettled URLs get kind `cancelled`. It
   * answers once the job is terminal; a job already ending (deadline, failFast, an earlier
   * cancel) ends as that, and a terminal job is left alone.
   */
  async cancel(): Promise<JobView | null> {
    this.#woke();
    const job = this.#job;
    if (!job) return null;
    if (!isTerminal(job.status)) {
      await this.#terminate('cancelled', 'cancelled', 'the job was cancelled');
    }
    return this.#view(this.#requireJob());
  }

  /** Moves the whole-job deadline (counted from creation), earlier or later. */
  async setDeadline(deadlineMs: number): Promise<DeadlineResult> {
    this.#woke();
    const job = this.#job;
    if (!job) return { ok: false, code: 'not_found', message: 'no such job' };
    if (isTerminal(job.status)) {
      return { ok: false, code: 'conflict', message: `the job is already ${job.status}` };
    }
    if (this.#ending) {
      return {
        ok: false,
        code: 'conflict',
        message: `the job is already ending (${this.#ending.status})`,
      };
    }
    const deadlineAt = job.created_at + deadlineMs;
    this.#sql.run('UPDATE job SET deadline_at = ? WHERE id = 1', deadlineAt);
    job.deadline_at = deadlineAt;
    if (deadlineAt <= Date.now()) {
      await this.#timeOut();
    } else {
      this.#wantAlarm(deadlineAt);
    }
    return { ok: true, view: this.#view(this.#requireJob()) };
  }

  /**
   * Called by shards: takes their finished outcomes, hands out more URLs. An idle shard's call
   * is held (up to a quarter of the lease) while work exists that cannot be handed out yet.
   */
  async exchange(req: ExchangeRequest): Promise<ExchangeReply> {
    this.#woke();
    const job = this.#job;
    const shard = this.#shards[req.shardIdx];
    if (!job || !shard || shard.runId !== req.runId || this.#ending) return ABORT;
    if (isTerminal(job.status)) return { items: [], stop: true, abort: job.status !== 'completed' };
    const now = Date.now();
    shard.leaseUntil = now + this.#leaseMs;
    if (req.started?.length) this.#markStarted(req.shardIdx, req.started);
    if (req.outcomes.length > 0) {
      let failure: string | null = null;
      this.ctx.storage.transactionSync(() => {
        failure = this.#apply(req.shardIdx, req.outcomes, now);
      });
      if (failure !== null) {
        void this.#terminate('failed', 'cancelled', failure);
        return { items: [], stop: true, abort: true };
      }
      if (this.#finishIfDone()) return { items: [], stop: true, abort: false };
    }
    const want = this.#fairWant(req.shardIdx, req.want);
    const items = want > 0 ? this.#lease(req.shardIdx, want, now) : [];
    this.#serveParked(now);
    const idle = req.inflight === 0 && req.queued === 0;
    if (items.length > 0 || !idle) return this.#reply(items, req.want, now);
    if (req.retiring) {
      // The run spent its subrequest budget: replace it with a fresh invocation.
      this.#stopShard(req.shardIdx);
      void this.#ensureShards(now).catch((err: unknown) => console.error('restart failed', err));
      return { items: [], stop: true, abort: false };
    }
    if (this.#counters.queued > 0 || this.#counters.retrying > 0 || this.#counters.leased > 0) {
      return this.#park(req);
    }
    this.#stopShard(req.shardIdx);
    return { items: [], stop: true, abort: false };
  }

  /** Drives retries, lease expiry, the deadline and the callback; always re-arms itself. */
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

  // ---- start-up and state ----

  #load(): void {
    const job = this.#sql.one<JobRow>('SELECT * FROM job WHERE id = 1');
    this.#job = job;
    if (!job) return;
    const spec = JSON.parse(job.spec) as JobSpec;
    this.#spec = spec;
    this.#hosts = new HostTable(
      this.#sql,
      spec.perHostConcurrency,
      spec.concurrency,
      spec.respectRobots,
    );
    this.#hosts.loadLeases();
    this.#recount();
    const now = Date.now();
    this.#ending =
      job.ending !== null && !isTerminal(job.status) ? (JSON.parse(job.ending) as Ending) : null;
    this.#endingAfter = -1;
    this.#shards = this.#sql
      .all<{ slots: number; run_id: string | null }>(
        'SELECT slots, run_id FROM shards ORDER BY idx',
      )
      .map((s) => ({
        slots: s.slots,
        runId: s.run_id,
        leaseUntil: now + this.#leaseMs,
        held: 0,
      }));
    this.#unprobed =
      !isTerminal(job.status) && !this.#ending && this.#shards.some((s) => s.runId !== null);
    // Woken after a restart (by a read or its alarm): find out at once which runs survived,
    // or finish an ending that the restart cut off.
    if (this.#unprobed || this.#ending) this.#tickOnWake = true;
    this.#leases.clear();
    for (const r of this.#sql.all<{
      idx: number;
      url: string;
      attempts: number;
      started: number;
      shard: number;
      host_id: number;
    }>('SELECT idx, url, attempts, started, shard, host_id FROM urls WHERE state = 1')) {
      this.#leases.set(r.idx, {
        shard: r.shard,
        url: r.url,
        attempts: r.attempts,
        started: r.started === 1,
        hostId: r.host_id,
      });
      const slot = this.#shards[r.shard];
      if (slot) slot.held++;
    }
    this.#hist = new LatencyHistogram();
    this.#bytes = 0;
    const samples = this.#sql.all<{ d: number; b: number }>(
      'SELECT duration_ms AS d, bytes AS b FROM results WHERE duration_ms > 0',
    );
    for (const s of samples) {
      this.#hist.record(s.d);
      this.#bytes += s.b;
    }
  }

  #recount(): void {
    const c = emptyCounters();
    for (const r of this.#sql.all<{ state: number; n: number }>(
      'SELECT state, count(*) AS n FROM urls GROUP BY state',
    )) {
      if (r.state === STATE.queued) c.queued = r.n;
      if (r.state === STATE.leased) c.leased = r.n;
      if (r.state === STATE.retrying) c.retrying = r.n;
    }
    for (const r of this.#sql.all<{ ok: number; kind: string | null; n: number }>(
      'SELECT ok, kind, count(*) AS n FROM results GROUP BY ok, kind',
    )) {
      if (r.ok) c.succeeded += r.n;
      else if (r.kind === 'cancelled' || r.kind === 'deadline') c.cancelled += r.n;
      else c.failed += r.n;
    }
    this.#counters = c;
  }

  #insertJob(input: CreateInput, now: number): void {
    const hostIds = new Map<string, number>();
    const rows: string[] = [];
    let chunkChars = 0;
    const flush = () => {
      if (rows.length === 0) return;
      this.#sql.run(
        `INSERT OR IGNORE INTO urls (idx, url, norm, host_id)
         SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?)`,
        `[${rows.join(',')}]`,
      );
      rows.length = 0;
      chunkChars = 0;
    };
    for (let i = 0; i < input.urls.length; i++) {
      const norm = input.norms[i] ?? '';
      const host = hostOf(norm);
      let hostId = hostIds.get(host);
      if (hostId === undefined) {
        hostId = hostIds.size + 1;
        hostIds.set(host, hostId);
      }
      const row = JSON.stringify([i, input.urls[i], norm, hostId]);
      rows.push(row);
      chunkChars += row.length;
      if (chunkChars >= INSERT_CHUNK_CHARS) flush();
    }
    flush();
    const hostRows: string[] = [];
    for (const [host, id] of hostIds) {
      hostRows.push(JSON.stringify([id, host]));
      if (hostRows.length >= 5_000) {
        this.#insertHosts(hostRows);
        hostRows.length = 0;
      }
    }
    this.#insertHosts(hostRows);
    const total = this.#sql.one<{ n: number }>('SELECT count(*) AS n FROM urls')?.n ?? 0;
    const plan = planShards(input.spec.concurrency);
    plan.forEach((slots, idx) => {
      this.#sql.run('INSERT INTO shards (idx, slots) VALUES (?, ?)', idx, slots);
    });
    const deadlineAt = input.spec.deadlineMs === null ? null : now + input.spec.deadlineMs;
    this.#sql.run(
      `INSERT INTO job (id, job_id, spec, body_hash, status, created_at, deadline_at, total,
         duplicates) VALUES (1, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
      input.jobId,
      JSON.stringify(input.spec),
      input.bodyHash,
      now,
      deadlineAt,
      total,
      input.urls.length - total,
    );
  }

  #insertHosts(rows: string[]): void {
    if (rows.length === 0) return;
    this.#sql.run(
      'INSERT INTO hosts (id, host) SELECT value->>0, value->>1 FROM json_each(?)',
      `[${rows.join(',')}]`,
    );
  }

  #requireJob(): JobRow {
    if (!this.#job) throw new Error('no job in this coordinator');
    return this.#job;
  }

  #requireSpec(): { spec: JobSpec; hosts: HostTable } {
    if (!this.#spec || !this.#hosts) throw new Error('no job in this coordinator');
    return { spec: this.#spec, hosts: this.#hosts };
  }

  #view(job: JobRow): JobView {
    const c = this.#counters;
    const inFlight = Math.min(
      c.leased,
      // A shard fetches up to its slots of what it holds at once.
      this.#shards.reduce((sum, s) => sum + (s.runId ? Math.min(s.slots, s.held) : 0), 0),
    );
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      id: job.job_id,
      status: job.status as JobStatus,
      mode: this.#spec?.mode ?? 'settle',
      createdAt: new Date(job.created_at).toISOString(),
      startedAt: iso(job.started_at),
      finishedAt: iso(job.finished_at),
      deadlineAt: iso(job.deadline_at),
      counts: {
        total: job.total,
        queued: c.queued + c.leased - inFlight,
        inFlight,
        retrying: c.retrying,
        succeeded: c.succeeded,
        failed: c.failed,
        cancelled: c.cancelled,
      },
      stats: {
        p50Ms: this.#hist.quantile(0.5),
        p95Ms: this.#hist.quantile(0.95),
        bytes: this.#bytes,
      },
    };
  }

  #setStatus(status: JobStatus, now: number): void {
    const job = this.#requireJob();
    if (status === 'running') {
      job.started_at = now;
      this.#sql.run("UPDATE job SET status = 'running', started_at = ? WHERE id = 1", now);
    } else {
      job.finished_at = now;
      this.#sql.run('UPDATE job SET status = ?, finished_at = ? WHERE id = 1', status, now);
    }
    job.status = status;
  }

  // ---- handing out work and taking results ----

  /**
   * Caps a shard's ask at one round for its connections plus its share of the queued URLs
   * (its slots over all slots): near the end of a job no shard sits on several rounds of
   * prefetched URLs while another shard's connections idle, which would stretch the last
   * rounds. In the last rounds (see #lastRound) no shard gets more than its free connections.
   */
  #fairWant(shardIdx: number, want: number): number {
    const shard = this.#shards[shardIdx];
    if (!shard || want <= 0) return 0;
    const { spec, hosts } = this.#requireSpec();
    // One round for its connections, plus its share of what is still queued here (the job's
    // shards hold `concurrency` connections in all, see planShards).
    const queued = this.#counters.queued;
    const share = shard.slots + Math.ceil((shard.slots * queued) / spec.concurrency);
    // Under per-host limits a URL waiting in one shard's queue holds a host slot that another
    // shard's idle connection could use: hand out no more than free connections.
    const cap = hosts.unconstrained && !this.#lastRound(spec) ? share : shard.slots;
    return Math.max(0, Math.min(want, cap - shard.held));
  }

  /**
   * Whether the job is in its last rounds (LAST_ROUNDS of its connections left, running or
   * queued): a URL prefetched there by one shard could wait a whole fetch for that shard's
   * connection while another shard's sits idle, so each URL goes to the first connection that
   * frees up.
   */
  #lastRound(spec: JobSpec): boolean {
    return this.#counters.queued + this.#counters.leased <= LAST_ROUNDS * spec.concurrency;
  }

  #lease(shardIdx: number, want: number, now: number): WorkItem[] {
    const { spec, hosts } = this.#requireSpec();
    if (this.#counters.queued <= 0) return [];
    if (hosts.unconstrained) return this.#leaseInOrder(shardIdx, want, now);
    const excluded = hosts.unavailable(now);
    const rows = this.#sql.all<QueuedRow>(
      `SELECT idx, url, norm, host_id, attempts FROM urls
       WHERE state = 0 AND host_id NOT IN (SELECT value FROM json_each(?))
       ORDER BY idx LIMIT ?`,
      JSON.stringify(excluded),
      want * 4 + 16,
    );
    const items: WorkItem[] = [];
    const leased: number[] = [];
    const denied: Settled[] = [];
    for (const row of rows) {
      if (items.length >= want) break;
      const host = hosts.get(row.host_id);
      if (spec.respectRobots) {
        const robots = host.robots;
        if (robots === null) {
          hosts.setRobots(host, { pending: shardIdx });
          items.push({ type: 'robots', hostId: host.id, url: `${originOf(row.norm)}/robots.txt` });
          continue;
        }
        if ('pending' in robots) continue;
        if (!isAllowed(robots, pathOf(row.norm))) {
          this.#counters.queued--;
          denied.push({
            idx: row.idx,
            result: resultWithoutFetch(row.url, 0, 'robots', 'disallowed by robots.txt'),
          });
          continue;
        }
      }
      if (!hosts.canTake(host, now)) continue;
      leased.push(row.idx);
      items.push(this.#holdFor(shardIdx, row, host));
    }
    this.#settleMany(denied);
    if (leased.length > 0) {
      for (const ids of chunks(leased, MAX_IDS_PER_STATEMENT)) {
        this.#sql.run(
          `UPDATE urls SET state = 1, shard = ?, started = 0
           WHERE idx IN (${placeholders(ids.length)})`,
          shardIdx,
          ...ids,
        );
      }
      this.#countLeased(shardIdx, leased.length, now);
    }
    this.#finishIfDone();
    return items;
  }

  /**
   * The lease when no host can refuse a URL: the next `want` queued URLs in one statement
   * (a single UPDATE is atomic, and its RETURNING gives what the shard needs).
   */
  #leaseInOrder(shardIdx: number, want: number, now: number): WorkItem[] {
    const { hosts } = this.#requireSpec();
    const rows = this.#sql.all<QueuedRow>(LEASE_IN_ORDER_SQL, shardIdx, want);
    const items = rows.map((row) => this.#holdFor(shardIdx, row, hosts.get(row.host_id)));
    if (rows.length > 0) this.#countLeased(shardIdx, rows.length, now);
    return items;
  }

  /** Books a URL leased (in SQL by the caller) to a shard and makes its work item. */
  #holdFor(shardIdx: number, row: QueuedRow, host: HostState): WorkItem {
    this.#requireSpec().hosts.lease(host);
    this.#leases.set(row.idx, {
      shard: shardIdx,
      url: row.url,
      attempts: row.attempts,
      started: false,
      hostId: row.host_id,
    });
    return { type: 'page', idx: row.idx, url: row.norm, host: host.host };
  }

  /** Moves `n` URLs from queued to leased to a shard; the first lease starts the job. */
  #countLeased(shardIdx: number, n: number, now: number): void {
    this.#counters.queued -= n;
    this.#counters.leased += n;
    const shard = this.#shards[shardIdx];
    if (shard) shard.held += n;
    if (this.#requireJob().status === 'queued') this.#setStatus('running', now);
  }

  /** Counts the attempts a shard started (see ExchangeRequest.started), durably. */
  #markStarted(shardIdx: number, started: number[]): void {
    const ids: number[] = [];
    for (const idx of started.slice(0, MAX_STARTED_PER_CALL)) {
      const lease = this.#leases.get(idx);
      if (!lease || lease.shard !== shardIdx || lease.started) continue;
      lease.started = true;
      lease.attempts++;
      ids.push(idx);
    }
    // Fixed-width id lists (padded with -1, which is no idx) keep one statement text, which
    // SQLite prepares once.
    for (const part of chunks(ids, STARTED_IDS_PER_STATEMENT)) {
      while (part.length < STARTED_IDS_PER_STATEMENT) part.push(-1);
      this.#sql.run(MARK_STARTED_SQL, ...part);
    }
  }

  /** Applies a shard's outcomes; returns a failFast cause when one trips the job. */
  #apply(shardIdx: number, outcomes: WorkOutcome[], now: number): string | null {
    const { spec, hosts } = this.#requireSpec();
    const pages: Array<Extract<WorkOutcome, { type: 'page' }>> = [];
    for (const o of outcomes) {
      if (o.type === 'robots') hosts.setRobots(hosts.get(o.hostId), o.rules);
      else pages.push(o);
    }
    if (pages.length === 0) return null;
    const shard = this.#shards[shardIdx];
    const settled: Settled[] = [];
    let failure: string | null = null;
    for (const o of pages) {
      const row = this.#leases.get(o.idx);
      // A report for a lease that expired (and was handed out again) is dropped: the newer
      // lease will report, and a URL can only ever have one result.
      if (!row || row.shard !== shardIdx) continue;
      this.#leases.delete(o.idx);
      // An outcome proves the fetch ran, whether or not its start was reported.
      if (!row.started) row.attempts++;
      const host = hosts.get(row.hostId);
      hosts.release(host);
      this.#counters.leased--;
      if (shard) shard.held = Math.max(0, shard.held - 1);
      const out = o.outcome;
      if (out.ok) {
        hosts.recover(host);
      } else if (isThrottleSignal(out.status)) {
        hosts.throttle(host, parseRetryAfter(out.retryAfter, now), now);
      }
      if (!out.ok && out.kind === 'cancelled') {
        // The shard dropped it without being told to (its run ended): hand it out again.
        this.#sql.run(
          'UPDATE urls SET state = 0, attempts = ?, started = 0 WHERE idx = ?',
          row.attempts,
          o.idx,
        );
        this.#counters.queued++;
        continue;
      }
      if (!out.ok && isRetryable(out) && row.attempts < spec.retry.maxAttempts) {
        this.#scheduleRetry(o.idx, row.attempts, out, host, now);
        continue;
      }
      settled.push({ idx: o.idx, result: resultFromOutcome(row.url, row.attempts, out) });
      if (!out.ok && spec.mode === 'failFast') {
        failure = `cancelled: failFast tripped by ${row.url} (${out.kind}: ${out.message})`;
        break;
      }
    }
    this.#settleMany(settled);
    return failure;
  }

  /** Logs the failed attempt and schedules the next one through the alarm. */
  #scheduleRetry(idx: number, attempts: number, out: PageOutcome, host: HostState, now: number) {
    const { spec } = this.#requireSpec();
    const retryAfterMs = out.ok ? null : parseRetryAfter(out.retryAfter, now);
    const delay =
      retryAfterMs === null
        ? backoffDelayMs(attempts, spec.retry)
        : nextRetryDelayMs(attempts, spec.retry, retryAfterMs);
    const dueAt = Math.max(now + delay, host.blockedUntil);
    if (!out.ok) {
      this.#sql.run(
        `INSERT OR IGNORE INTO attempt_log (idx, n, at, status, kind, message, duration_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        idx,
        attempts,
        now,
        out.status,
        out.kind,
        out.message,
        out.durationMs,
      );
    }
    this.#sql.run(
      'UPDATE urls SET state = 2, due_at = ?, attempts = ?, started = 0 WHERE idx = ?',
      dueAt,
      attempts,
      idx,
    );
    this.#counters.retrying++;
    this.#wantAlarm(dueAt);
  }

  /** Writes results, at most once per URL (the UNIQUE idx decides), in few statements. */
  #settleMany(list: Settled[]): void {
    for (let start = 0; start < list.length; start += SETTLE_ROWS_PER_STATEMENT) {
      const chunk = list.slice(start, start + SETTLE_ROWS_PER_STATEMENT);
      const params: Array<string | number | null> = [];
      for (const { idx, result } of chunk) {
        params.push(
          idx,
          result.ok ? 1 : 0,
          result.error?.kind ?? null,
          result.durationMs,
          result.bytes,
          JSON.stringify(result),
        );
      }
      const values = chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
      const written = this.#sql.all<{ idx: number }>(
        `INSERT OR IGNORE INTO results (idx, ok, kind, duration_ms, bytes, body)
         VALUES ${values} RETURNING idx`,
        ...params,
      );
      if (written.length === 0) continue;
      // The results_settle trigger marks the URL rows settled in the same statement.
      const fresh = new Set(written.map((w) => w.idx));
      for (const { idx, result } of chunk) {
        if (!fresh.has(idx)) continue;
        if (result.ok) this.#counters.succeeded++;
        else if (result.error?.kind === 'cancelled' || result.error?.kind === 'deadline') {
          this.#counters.cancelled++;
        } else this.#counters.failed++;
        if (result.durationMs > 0) this.#hist.record(result.durationMs);
        this.#bytes += result.bytes;
      }
    }
  }

  #finishIfDone(): boolean {
    const job = this.#requireJob();
    if (isTerminal(job.status)) return true;
    // An ending job takes its status from the ending, with its last chunk.
    if (this.#ending) return false;
    const c = this.#counters;
    if (c.succeeded + c.failed + c.cancelled < job.total) return false;
    this.#setStatus('completed', Date.now());
    this.#afterTerminal();
    return true;
  }

  /**
   * Ends the job: in-flight shard runs are aborted at once, nothing more is handed out, and
   * every unsettled URL gets `kind`, one chunk per turn of the thread so that reads and shard
   * calls are served in between; the terminal status comes with the last chunk. A job that
   * is already ending keeps its ending: the caller waits for it.
   */
  async #terminate(status: JobStatus, kind: ErrorKind, message: string): Promise<void> {
    const aborts = this.#ending ? [] : this.#beginEnding({ status, kind, message });
    await Promise.all([this.#driveEnding(), Promise.allSettled(aborts)]);
  }

  /** Persists the ending and stops every shard run; returns the runs' abort calls. */
  #beginEnding(ending: Ending): Array<Promise<void>> {
    const job = this.#requireJob();
    const marker = JSON.stringify(ending);
    this.ctx.storage.transactionSync(() => {
      this.#sql.run('UPDATE job SET ending = ? WHERE id = 1', marker);
      this.#sql.run('UPDATE shards SET run_id = NULL');
    });
    job.ending = marker;
    this.#ending = ending;
    this.#endingAfter = -1;
    const running: Array<{ idx: number; runId: string }> = [];
    this.#shards.forEach((s, idx) => {
      if (s.runId) running.push({ idx, runId: s.runId });
      s.runId = null;
      s.held = 0;
    });
    this.#leases.clear();
    this.#hosts?.clearLeases();
    for (const p of this.#parked.splice(0)) {
      clearTimeout(p.timer);
      p.resolve(ABORT);
    }
    return running.map((r) => this.#shardStub(r.idx).abort(job.job_id, r.runId));
  }

  /** Runs the ending's chunk loop, or joins the one under way. */
  #driveEnding(): Promise<void> {
    this.#endingRun ??= this.#settleRest().finally(() => {
      this.#endingRun = null;
    });
    return this.#endingRun;
  }

  /**
   * Settles the ending's URLs chunk by chunk. The first chunk runs in the caller's turn, so a
   * job of one chunk is terminal when the call that ended it answers.
   */
  async #settleRest(): Promise<void> {
    const ending = this.#ending;
    if (!ending) return;
    // Should this invocation die or fail before the last chunk, the alarm picks the ending up.
    this.#wantAlarm(Date.now() + this.#tickMs);
    while (!this.#settleChunk(ending)) await scheduler.wait(0);
  }

  /**
   * Settles the next SETTLE_CHUNK_ROWS unsettled URLs with the ending's error, in one
   * transaction; once none is left, sets the terminal status. True when the job is terminal.
   */
  #settleChunk(ending: Ending): boolean {
    const after = this.#endingAfter;
    const rows = this.#settleChunkRows;
    let plan: Array<{ state: number; n: number; last: number }> = [];
    let settled = 0;
    let last = after;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      plan = this.#sql.all<{ state: number; n: number; last: number }>(
        SETTLE_CHUNK_PLAN_SQL,
        after,
        rows,
      );
      for (const p of plan) {
        settled += p.n;
        last = Math.max(last, p.last);
      }
      if (settled > 0) this.#sql.run(SETTLE_RANGE_SQL, ending.kind, ending.message, after, last);
      // Every URL up to `last` is settled now, so a short chunk was the last one.
      if (settled < rows) {
        this.#sql.run('UPDATE job SET ending = NULL WHERE id = 1');
        this.#setStatus(ending.status, now);
      }
    });
    // The transaction committed: memory follows (a URL's Result is the only way it settles,
    // so the chunk settled exactly what its plan counted).
    const c = this.#counters;
    for (const p of plan) {
      if (p.state === STATE.queued) c.queued -= p.n;
      else if (p.state === STATE.leased) c.leased -= p.n;
      else if (p.state === STATE.retrying) c.retrying -= p.n;
    }
    if (ending.kind === 'cancelled' || ending.kind === 'deadline') c.cancelled += settled;
    else c.failed += settled;
    this.#endingAfter = last;
    if (settled >= rows) return false;
    this.#requireJob().ending = null;
    this.#ending = null;
    this.#afterTerminal();
    return true;
  }

  async #timeOut(): Promise<void> {
    await this.#terminate(
      'timed_out',
      'deadline',
      'the job deadline passed before this URL settled',
    );
  }

  #afterTerminal(): void {
    for (const p of this.#parked.splice(0)) {
      clearTimeout(p.timer);
      p.resolve({ items: [], stop: true, abort: false });
    }
    for (const w of [...this.#waiters]) w();
    if (this.#spec?.callbackUrl) {
      this.#sql.run("UPDATE job SET callback_state = 'pending:0' WHERE id = 1");
      this.#requireJob().callback_state = 'pending:0';
      this.#wantAlarm(Date.now());
    }
  }

  // ---- shards ----

  #shardStub(idx: number) {
    return this.env.FETCH_SHARD.getByName(`${this.#requireJob().job_id}/${idx}`);
  }

  #park(req: ExchangeRequest): Promise<ExchangeReply> {
    return new Promise((resolve) => {
      const entry: Parked = {
        shardIdx: req.shardIdx,
        runId: req.runId,
        want: req.want,
        resolve,
        timer: setTimeout(() => {
          this.#parked = this.#parked.filter((p) => p !== entry);
          resolve({ items: [], stop: false, abort: false });
        }, this.#leaseMs / 4),
      };
      this.#parked.push(entry);
    });
  }

  #serveParked(now: number): void {
    if (this.#parked.length === 0 || this.#counters.queued <= 0) return;
    for (const p of [...this.#parked]) {
      if (this.#shards[p.shardIdx]?.runId !== p.runId) continue;
      const want = this.#fairWant(p.shardIdx, p.want);
      if (want <= 0) continue;
      const items = this.#lease(p.shardIdx, want, now);
      if (items.length === 0) break;
      clearTimeout(p.timer);
      this.#parked = this.#parked.filter((x) => x !== p);
      p.resolve(this.#reply(items, p.want, now));
    }
  }

  /** A reply that hands out items and tells the shard which hosts are held back. */
  #reply(items: WorkItem[], want: number, now: number): ExchangeReply {
    const reply: ExchangeReply = { items, stop: false, abort: false };
    const holds = this.#hosts?.holds(now) ?? [];
    if (holds.length > 0) reply.holds = holds;
    // Only host limits and the last rounds make a finished fetch free a slot someone else
    // waits for.
    const hosts = this.#hosts;
    const waiting =
      hosts !== null && (!hosts.unconstrained || this.#lastRound(this.#requireSpec().spec));
    if (items.length < want && this.#counters.queued > 0 && waiting) {
      reply.eager = true;
    }
    return reply;
  }

  #stopShard(idx: number): void {
    const shard = this.#shards[idx];
    if (!shard) return;
    shard.runId = null;
    shard.held = 0;
    this.#sql.run('UPDATE shards SET run_id = NULL WHERE idx = ?', idx);
  }

  async #ensureShards(now: number): Promise<void> {
    const { spec } = this.#requireSpec();
    if (this.#counters.queued <= 0 || this.#ending) return;
    const job = this.#requireJob();
    const starts: Array<Promise<void>> = [];
    const need = this.#counters.queued;
    let running = 0;
    for (const s of this.#shards) if (s.runId) running += s.slots;
    this.#shards.forEach((s, idx) => {
      // Enough runs that every queued URL has a connection, up to the job's concurrency.
      if (s.runId || running >= need) return;
      const runId = randomToken();
      s.runId = runId;
      s.leaseUntil = now + this.#leaseMs;
      s.held = 0;
      running += s.slots;
      // An even split of what is queued over the connections it needs (all of the job's at
      // most), within the prefetch.
      const over = Math.max(1, Math.min(spec.concurrency, need));
      const first = Math.min(s.slots * PREFETCH_FACTOR, Math.ceil((s.slots * need) / over));
      this.#sql.run('UPDATE shards SET run_id = ? WHERE idx = ?', runId, idx);
      const assignment: ShardAssignment = {
        jobId: job.job_id,
        shardIdx: idx,
        runId,
        slots: s.slots,
        timeoutMs: spec.timeoutMs,
        maxBytes: spec.maxBytes,
        selectors: spec.extract.selectors,
        allowPrivate: this.env.ALLOW_PRIVATE_TARGETS === 'true',
        heartbeatMs: Math.floor(this.#leaseMs / 4),
        // Its first URLs come with the start, which saves the run one round trip (and one
        // storage commit) before its first fetch.
        items: this.#lease(idx, this.#fairWant(idx, first), now),
        holds: this.#hosts?.holds(now) ?? [],
      };
      starts.push(
        this.#shardStub(idx)
          .start(assignment)
          .catch((err: unknown) => {
            console.error(`shard ${idx} failed to start`, err);
            if (s.runId === runId) {
              this.#requeueShard(idx, Date.now());
              this.#hosts?.loadLeases();
              this.#wantAlarm(Date.now() + START_RETRY_MS);
            }
          }),
      );
    });
    await Promise.all(starts);
  }

  /**
   * After this object restarts, asks each shard whose run it remembers whether that run still
   * goes on. A run lost with the process (a crash, a deploy) has its lease expired at once
   * rather than after SHARD_LEASE_MS; a shard that cannot be asked keeps its lease.
   */
  async #probeShards(now: number): Promise<void> {
    this.#unprobed = false;
    const checks = this.#shards.map(async (s, idx) => {
      const runId = s.runId;
      if (runId === null) return;
      try {
        const alive = await this.#shardStub(idx).alive(runId);
        if (!alive && s.runId === runId) s.leaseUntil = now;
      } catch (err) {
        console.warn(`shard ${idx} could not be asked about run ${runId}`, err);
      }
    });
    await Promise.all(checks);
  }

  /** Gives the URLs of dead shard runs back to the queue. */
  #expireLeases(now: number): void {
    let any = false;
    this.#shards.forEach((s, idx) => {
      if (!s.runId || s.leaseUntil > now) return;
      console.warn(`shard ${idx} run ${s.runId} missed its lease; its URLs go back to the queue`);
      this.#requeueShard(idx, now);
      any = true;
    });
    if (any) this.#hosts?.loadLeases();
  }

  /** Puts the URLs leased to a shard's run back in the queue and forgets the run. */
  #requeueShard(idx: number, now: number): void {
    this.#sql.run(
      `INSERT OR IGNORE INTO attempt_log (idx, n, at, status, kind, message, duration_ms)
       SELECT idx, attempts, ?, NULL, 'lost', ?, 0 FROM urls
       WHERE state = 1 AND shard = ? AND started = 1`,
      now,
      'the shard running this fetch stopped before reporting it; the URL was run again',
      idx,
    );
    const back = this.#sql.all<{ idx: number }>(
      'UPDATE urls SET state = 0, started = 0 WHERE state = 1 AND shard = ? RETURNING idx',
      idx,
    );
    for (const r of back) this.#leases.delete(r.idx);
    const n = back.length;
    this.#counters.leased -= n;
    this.#counters.queued += n;
    this.#hosts?.resetPendingRobots(idx);
    this.#stopShard(idx);
    this.#parked = this.#parked.filter((p) => p.shardIdx !== idx);
  }

  // ---- the alarm ----

  /** Arms the alarm now if loading found work that must not wait for it (see #tickOnWake). */
  #woke(): void {
    if (!this.#tickOnWake) return;
    this.#tickOnWake = false;
    this.#wantAlarm(Date.now());
  }

  #wantAlarm(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  async #tick(): Promise<void> {
    const job = this.#job;
    if (!job) return;
    const now = Date.now();
    if (this.#ending) {
      // An ending cut off by a restart (or still under way): finish it. Its terminal status
      // asks for the callback's alarm.
      await this.#driveEnding();
      return;
    }
    if (isTerminal(job.status)) {
      await this.#runCallback(job);
      return;
    }
    if (job.deadline_at !== null && job.deadline_at <= now) {
      await this.#timeOut();
      return;
    }
    const promoted = this.#sql.all(
      'UPDATE urls SET state = 0, due_at = NULL WHERE state = 2 AND due_at <= ? RETURNING idx',
      now,
    ).length;
    this.#counters.retrying -= promoted;
    this.#counters.queued += promoted;
    if (this.#unprobed) await this.#probeShards(now);
    this.#expireLeases(now);
    this.#serveParked(now);
    await this.#ensureShards(now);
    let next = now + this.#tickMs;
    const due = this.#sql.one<{ d: number | null }>(
      'SELECT min(due_at) AS d FROM urls WHERE state = 2',
    )?.d;
    if (due != null) next = Math.min(next, due);
    if (job.deadline_at !== null) next = Math.min(next, job.deadline_at);
    this.#wantAlarm(Math.max(next, now + 10));
  }

  async #runCallback(job: JobRow): Promise<void> {
    const url = this.#spec?.callbackUrl;
    const state = job.callback_state;
    if (!url || !state?.startsWith('pending:')) return;
    const attempt = Number(state.slice('pending:'.length)) + 1;
    const ok = await deliverCallback(url, this.#view(job), this.env.WEBHOOK_SECRET);
    const next = ok
      ? 'delivered'
      : attempt >= CALLBACK_MAX_ATTEMPTS
        ? 'failed'
        : `pending:${attempt}`;
    this.#sql.run('UPDATE job SET callback_state = ? WHERE id = 1', next);
    job.callback_state = next;
    if (next.startsWith('pending:')) {
      this.#wantAlarm(
        Date.now() + backoffDelayMs(attempt, { baseDelayMs: 2_000, maxDelayMs: 60_000 }),
      );
    }
  }
}

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function emptyCounters(): Counters {
  return { queued: 0, leased: 0, retrying: 0, succeeded: 0, failed: 0, cancelled: 0 };
}

/** `host[:port]` of a normalised URL: the text between `://` and the next `/`. */
function hostOf(norm: string): string {
  const start = norm.indexOf('://') + 3;
  const end = norm.indexOf('/', start);
  return end === -1 ? norm.slice(start) : norm.slice(start, end);
}

function originOf(norm: string): string {
  const start = norm.indexOf('://') + 3;
  const end = norm.indexOf('/', start);
  return end === -1 ? norm : norm.slice(0, end);
}

function pathOf(norm: string): string {
  const start = norm.indexOf('://') + 3;
  const end = norm.indexOf('/', start);
  return end === -1 ? '/' : norm.slice(end);
}
