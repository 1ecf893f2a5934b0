import { DurableObject } from 'cloudflare:workers';
import { createJob } from '../src/jobs/create-job';
import { firstIssueMessage, jobLimits, parseJob } from '../src/jobs/schema';
import { ADMIN_OWNER } from '../src/keys/types';
import { latestRunAtOrBefore, nextRunAfter } from '../src/lib/cron';
import { scheduledJobId } from '../src/lib/schedule-ids';
import { Sql } from '../src/lib/sql';
import type {
  NewSchedule,
  RunStatus,
  ScheduleDetail,
  ScheduleRun,
  ScheduleView,
  TickReport,
} from '../src/schedules/types';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE schedules (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     cron TEXT NOT NULL,
     job TEXT NOT NULL,
     job_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     next_run_at INTEGER
   );
   CREATE INDEX schedules_due ON schedules (next_run_at);
   CREATE INDEX schedules_newest ON schedules (created_at DESC, id DESC);
   CREATE TABLE runs (
     schedule_id TEXT NOT NULL,
     due_at INTEGER NOT NULL,
     status TEXT NOT NULL,
     job_id TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     started_at INTEGER,
     error TEXT,
     PRIMARY KEY (schedule_id, due_at)
   );
   CREATE INDEX runs_pending ON runs (status, due_at);`,
];

/** Runs kept per schedule (newest due times); older ones are pruned as new ones settle. */
export const RUNS_KEPT = 20;
/** Job starts one tick attempts at most: each is two RPCs, and a tick must stay bounded. */
const MAX_STARTS_PER_TICK = 50;
/** Starts in flight at once within a tick. */
const START_CONCURRENCY = 6;
/** A start that throws (not one that is refused) is retried on later ticks this many times. */
const MAX_START_ATTEMPTS = 3;

interface ScheduleRow extends Record<string, SqlStorageValue> {
  id: string;
  name: string;
  cron: string;
  created_at: number;
  next_run_at: number | null;
}

interface RunRow extends Record<string, SqlStorageValue> {
  schedule_id: string;
  due_at: number;
  status: string;
  job_id: string | null;
  attempts: number;
  started_at: number | null;
  error: string | null;
}

interface PendingRun extends Record<string, SqlStorageValue> {
  schedule_id: string;
  due_at: number;
  attempts: number;
  job: string;
  job_hash: string;
}

type Outcome = TickReport['runs'][number];

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * Every schedule and its recent runs (one instance, "all"). The worker's cron trigger calls
 * `tick` once a minute; a tick claims what is due, then creates each job the way POST /v1/jobs
 * does, under a job id derived from (schedule, due time), so that no due time ever yields two
 * jobs: not on a doubled or retried trigger, not after a crash between claim and start.
 */
export class Scheduler extends DurableObject<Env> {
  readonly #sql: Sql;
  /** Runs (`scheduleId@dueAt`) this instance is starting now, so a concurrent tick skips them. */
  readonly #starting = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = new Sql(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => this.#sql.migrate(MIGRATIONS));
  }

  /** Stores a validated schedule; its first due time is the first run strictly after creation. */
  async create(input: NewSchedule): Promise<ScheduleView> {
    const next = nextRunAfter(input.cron, input.createdAt);
    this.#sql.run(
      `INSERT INTO schedules (id, name, cron, job, job_hash, created_at, next_run_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      input.id,
      input.name,
      input.cron,
      input.jobText,
      input.jobHash,
      input.createdAt,
      next,
    );
    return {
      id: input.id,
      name: input.name,
      cron: input.cron,
      createdAt: new Date(input.createdAt).toISOString(),
      nextRunAt: iso(next),
    };
  }

  /** A page of schedules, newest first, strictly after the (createdAt, id) position given. */
  async list(
    limit: number,
    after: { createdAt: number; id: string } | null,
  ): Promise<ScheduleView[]> {
    const cols = 'id, name, cron, created_at, next_run_at';
    const rows = after
      ? this.#sql.all<ScheduleRow>(
          `SELECT ${cols} FROM schedules
           WHERE created_at < ?1 OR (created_at = ?1 AND id < ?2)
           ORDER BY created_at DESC, id DESC LIMIT ?3`,
          after.createdAt,
          after.id,
          limit,
        )
      : this.#sql.all<ScheduleRow>(
          `SELECT ${cols} FROM schedules ORDER BY created_at DESC, id DESC LIMIT ?`,
          limit,
        );
    return rows.map(toView);
  }

  /** One schedule with its job and its recent runs (newest first); null when there is none. */
  async get(id: string): Promise<ScheduleDetail | null> {
    const row = this.#sql.one<ScheduleRow & { job: string }>(
      'SELECT id, name, cron, created_at, next_run_at, job FROM schedules WHERE id = ?',
      id,
    );
    if (!row) return null;
    const runs = this.#sql.all<RunRow>(
      'SELECT * FROM runs WHERE schedule_id = ? ORDER BY due_at DESC LIMIT ?',
      id,
      RUNS_KEPT,
    );
    return { ...toView(row), jobText: row.job, runs: runs.map(toRun) };
  }

  /**
   * Deletes a schedule and its run history; false when there was none. Jobs it already started
   * are left alone.
   */
  async remove(id: string): Promise<boolean> {
    const gone = this.#sql.all<{ id: string }>(
      'DELETE FROM schedules WHERE id = ? RETURNING id',
      id,
    );
    this.#sql.run('DELETE FROM runs WHERE schedule_id = ?', id);
    return gone.length > 0;
  }

  /**
   * Starts what is due at `now` (the trigger's scheduled time). A schedule that missed several
   * due times (the worker was down, triggers were lost) runs once, for the latest of them, and
   * then waits for its next due time after `now`. Also retries runs left pending by an earlier
   * tick that crashed or failed transiently. Safe to call twice for the same minute, also
   * concurrently: the second call finds nothing left to claim.
   */
  async tick(now: number): Promise<TickReport> {
    this.ctx.storage.transactionSync(() => this.#claimDue(now));
    const pending = this.#sql
      .all<PendingRun>(
        `SELECT r.schedule_id, r.due_at, r.attempts, s.job, s.job_hash
         FROM runs r JOIN schedules s ON s.id = r.schedule_id
         WHERE r.status = 'pending' ORDER BY r.due_at LIMIT ?`,
        MAX_STARTS_PER_TICK + this.#starting.size,
      )
      .filter((r) => !this.#starting.has(runKey(r.schedule_id, r.due_at)))
      .slice(0, MAX_STARTS_PER_TICK);
    for (const r of pending) this.#starting.add(runKey(r.schedule_id, r.due_at));
    const runs = await mapBounded(pending, START_CONCURRENCY, (r) => this.#start(r));
    return { runs };
  }

  /** Claims due schedules: one pending run each, and the next due time after `now`. */
  #claimDue(now: number): void {
    const pending =
      this.#sql.one<{ n: number }>("SELECT count(*) AS n FROM runs WHERE status = 'pending'")?.n ??
      0;
    const room = MAX_STARTS_PER_TICK - pending;
    if (room <= 0) return;
    const due = this.#sql.all<{ id: string; cron: string; next_run_at: number }>(
      `SELECT id, cron, next_run_at FROM schedules
       WHERE next_run_at IS NOT NULL AND next_run_at <= ?
       ORDER BY next_run_at LIMIT ?`,
      now,
      room,
    );
    for (const s of due) {
      const dueAt = Math.max(s.next_run_at, latestRunAtOrBefore(s.cron, now) ?? s.next_run_at);
      this.#sql.run(
        'UPDATE schedules SET next_run_at = ? WHERE id = ?',
        nextRunAfter(s.cron, now),
        s.id,
      );
      this.#sql.run(
        `INSERT OR IGNORE INTO runs (schedule_id, due_at, status, attempts)
         VALUES (?, ?, 'pending', 0)`,
        s.id,
        dueAt,
      );
    }
  }

  /** Creates the job of one claimed run and records how that went. */
  async #start(run: PendingRun): Promise<Outcome> {
    const key = runKey(run.schedule_id, run.due_at);
    try {
      const jobId = await scheduledJobId(run.schedule_id, run.due_at);
      // Validated again: MAX_URLS_PER_JOB or the job rules may have changed since it was saved.
      const parsed = parseJob(JSON.parse(run.job), jobLimits(this.env));
      if (!parsed.ok) {
        const message = firstIssueMessage(parsed.issues, 'invalid job', 'job.');
        return this.#record(run, 'failed', null, run.attempts + 1, message);
      }
      const created = await createJob(this.env, {
        id: jobId,
        owner: ADMIN_OWNER,
        spec: parsed.spec,
        urls: parsed.urls,
        norms: parsed.norms,
        bodyHash: run.job_hash,
      });
      if (created.kind === 'conflict') {
        return this.#record(run, 'failed', null, run.attempts + 1, created.message);
      }
      return this.#record(run, 'started', jobId, run.attempts + 1, null);
    } catch (err) {
      const attempts = run.attempts + 1;
      const message = err instanceof Error ? err.message : String(err);
      console.error('scheduler: starting a run failed', run.schedule_id, run.due_at, err);
      const status = attempts >= MAX_START_ATTEMPTS ? 'failed' : 'pending';
      return this.#record(run, status, null, attempts, message);
    } finally {
      this.#starting.delete(key);
    }
  }

  #record(
    run: PendingRun,
    status: RunStatus,
    jobId: string | null,
    attempts: number,
    error: string | null,
  ): Outcome {
    this.ctx.storage.transactionSync(() => {
      this.#sql.run(
        `UPDATE runs SET status = ?, job_id = ?, attempts = ?, started_at = ?, error = ?
         WHERE schedule_id = ? AND due_at = ?`,
        status,
        jobId,
        attempts,
        status === 'started' ? Date.now() : null,
        error,
        run.schedule_id,
        run.due_at,
      );
      this.#sql.run(
        `DELETE FROM runs WHERE schedule_id = ?1 AND due_at NOT IN
           (SELECT due_at FROM runs WHERE schedule_id = ?1 ORDER BY due_at DESC LIMIT ?2)`,
        run.schedule_id,
        RUNS_KEPT,
      );
    });
    return {
      scheduleId: run.schedule_id,
      dueAt: new Date(run.due_at).toISOString(),
      status,
      jobId,
      error,
    };
  }
}

function runKey(scheduleId: string, dueAt: number): string {
  return `${scheduleId}@${dueAt}`;
}

function toView(row: ScheduleRow): ScheduleView {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    createdAt: new Date(row.created_at).toISOString(),
    nextRunAt: iso(row.next_run_at),
  };
}

function toRun(row: RunRow): ScheduleRun {
  return {
    dueAt: new Date(row.due_at).toISOString(),
    status: row.status as RunStatus,
    jobId: row.job_id,
    startedAt: iso(row.started_at),
    attempts: row.attempts,
    error: row.error,
  };
}

/** Maps items through `fn` with at most `limit` calls in flight, keeping the input order. */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
