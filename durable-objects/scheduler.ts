import { DurableObject } from 'cloudflare:workers';
import { createJob } from '../src/jobs/create-job';
import { firstIssueMessage, jobLimits, parseJob } from '../src/jobs/schema';
import { latestRunAtOrBefore, nextRunAfter } from '../src/lib/cron';
import { mapBounded } from '../src/lib/map-bounded';
import { scheduledJobId } from '../src/lib/schedule-ids';
import { Sql } from '../src/lib/sql';
import { SCHEDULER_MIGRATIONS } from '../src/schedules/migrations';
import { readPriorRun, runSpec } from '../src/schedules/prior-run';
import {
  iso,
  type PendingRun,
  type RunRow,
  SCHEDULE_COLUMNS,
  type ScheduleRow,
  toRun,
  toView,
} from '../src/schedules/rows';
import type {
  CreatedSchedule,
  NewSchedule,
  RunStatus,
  ScheduleDetail,
  ScheduleView,
  TickReport,
} from '../src/schedules/types';

/** Runs kept per schedule (newest due times); older ones are pruned as new ones settle. */
export const RUNS_KEPT = 20;
/**
 * Job starts one tick attempts at most: each is up to three RPCs (the previous job's status, the
 * job's creation, its listing), and a tick must stay bounded.
 */
const MAX_STARTS_PER_TICK = 50;
/** Starts in flight at once within a tick. */
const START_CONCURRENCY = 6;
/** A start that throws (not one that is refused) is retried on later ticks this many times. */
const MAX_START_ATTEMPTS = 3;

type Outcome = TickReport['runs'][number];

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
    void ctx.blockConcurrencyWhile(async () => this.#sql.migrate(SCHEDULER_MIGRATIONS));
  }

  /**
   * Stores a validated schedule; its first due time is the first run strictly after creation.
   * Refused when `cap` is given and the owner holds that many schedules already: counting and
   * inserting are one synchronous step, so concurrent creations cannot pass the cap together.
   */
  async create(input: NewSchedule, cap: number | null): Promise<CreatedSchedule> {
    if (cap !== null) {
      const held =
        this.#sql.one<{ n: number }>(
          'SELECT count(*) AS n FROM schedules WHERE owner = ?',
          input.owner,
        )?.n ?? 0;
      if (held >= cap) return { ok: false, held };
    }
    const next = nextRunAfter(input.cron, input.createdAt);
    this.#sql.run(
      `INSERT INTO schedules (id, owner, name, cron, job, job_hash, created_at, next_run_at,
         compare, notify)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      input.id,
      input.owner,
      input.name,
      input.cron,
      input.jobText,
      input.jobHash,
      input.createdAt,
      next,
      input.compare ? 1 : 0,
      input.notify,
    );
    const view: ScheduleView = {
      id: input.id,
      owner: input.owner,
      name: input.name,
      cron: input.cron,
      createdAt: new Date(input.createdAt).toISOString(),
      nextRunAt: iso(next),
      compare: input.compare,
      notify: input.notify,
    };
    return { ok: true, view };
  }

  /**
   * A page of schedules, newest first, strictly after the (createdAt, id) position given: all
   * of them (no owner: the admin) or one owner's.
   */
  async list(
    limit: number,
    after: { createdAt: number; id: string } | null,
    owner?: string,
  ): Promise<ScheduleView[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (owner !== undefined) {
      where.push('owner = ?');
      params.push(owner);
    }
    if (after) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(after.createdAt, after.createdAt, after.id);
    }
    const rows = this.#sql.all<ScheduleRow>(
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...params,
      limit,
    );
    return rows.map(toView);
  }

  /**
   * One schedule with its job and its recent runs (newest first); null when there is none, or
   * when `owner` is given and does not own it.
   */
  async get(id: string, owner?: string): Promise<ScheduleDetail | null> {
    const row = this.#sql.one<ScheduleRow & { job: string }>(
      `SELECT ${SCHEDULE_COLUMNS}, job FROM schedules WHERE id = ?`,
      id,
    );
    if (!row || (owner !== undefined && row.owner !== owner)) return null;
    const runs = this.#sql.all<RunRow>(
      'SELECT * FROM runs WHERE schedule_id = ? ORDER BY due_at DESC LIMIT ?',
      id,
      RUNS_KEPT,
    );
    return { ...toView(row), jobText: row.job, runs: runs.map(toRun) };
  }

  /**
   * Deletes a schedule and its run history; false when there was none (or `owner` is given and
   * does not own it). Jobs it already started are left alone.
   */
  async remove(id: string, owner?: string): Promise<boolean> {
    const gone = this.#sql.all<{ id: string }>(
      'DELETE FROM schedules WHERE id = ?1 AND (?2 IS NULL OR owner = ?2) RETURNING id',
      id,
      owner ?? null,
    );
    if (gone.length === 0) return false;
    this.#sql.run('DELETE FROM runs WHERE schedule_id = ?', id);
    return true;
  }

  /** Deletes every schedule of an owner (an API key being deleted) and their runs. */
  async removeOwned(owner: string): Promise<number> {
    const gone = this.#sql.all<{ id: string }>(
      'DELETE FROM schedules WHERE owner = ? RETURNING id',
      owner,
    );
    this.#sql.run('DELETE FROM runs WHERE schedule_id NOT IN (SELECT id FROM schedules)');
    return gone.length;
  }

  /**
   * Starts what is due at `now` (the trigger's scheduled time). A schedule that missed several
   * due times (the worker was down, triggers were lost) runs once, for the latest of them, and
   * then waits for its next due time after `now`. Also retries runs left pending by an earlier
   * tick that crashed or failed transiently. Safe to call twice for the same minute, also
   * concurrently: the second call finds nothing left to claim. A schedule has one run starting
   * at a time, its earliest pending one: a later run is judged by the job an earlier one starts.
   */
  async tick(now: number): Promise<TickReport> {
    this.ctx.storage.transactionSync(() => this.#claimDue(now));
    const pending = this.#sql
      .all<PendingRun>(
        `SELECT r.schedule_id, r.due_at, r.attempts, s.job, s.job_hash, s.owner, s.last_job_id,
           s.compare, s.notify, s.last_completed_job_id
         FROM runs r JOIN schedules s ON s.id = r.schedule_id
         WHERE r.status = 'pending' AND NOT EXISTS (
           SELECT 1 FROM runs e WHERE e.schedule_id = r.schedule_id AND e.status = 'pending'
             AND e.due_at < r.due_at)
         ORDER BY r.due_at LIMIT ?`,
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

  /**
   * Creates the job of one claimed run, owned by the schedule's owner, and records how that
   * went; skips the run while the job of the schedule's previous started run has not ended.
   * The job id (from schedule and due time) and body hash (the template's) do not depend on what
   * the job is compared with, so a retried start finds the job an earlier attempt created.
   */
  async #start(run: PendingRun): Promise<Outcome> {
    const key = runKey(run.schedule_id, run.due_at);
    let completed: string | null = null;
    try {
      const prior = await readPriorRun(run, (id) => this.env.JOB_COORDINATOR.getByName(id).view());
      completed = prior.completed;
      if (prior.busy) return this.#record(run, 'skipped', null, run.attempts + 1, prior.busy);
      const jobId = await scheduledJobId(run.schedule_id, run.due_at);
      // Validated again: MAX_URLS_PER_JOB or the job rules may have changed since it was saved.
      const parsed = parseJob(JSON.parse(run.job), jobLimits(this.env));
      if (!parsed.ok) {
        const message = firstIssueMessage(parsed.issues, 'invalid job', 'job.');
        return this.#record(run, 'failed', null, run.attempts + 1, message, completed);
      }
      const created = await createJob(this.env, {
        id: jobId,
        owner: run.owner,
        spec: runSpec(parsed.spec, run, prior.compareWith),
        urls: parsed.urls,
        norms: parsed.norms,
        bodyHash: run.job_hash,
      });
      if (created.kind === 'conflict') {
        return this.#record(run, 'failed', null, run.attempts + 1, created.message, completed);
      }
      return this.#record(run, 'started', jobId, run.attempts + 1, null, completed);
    } catch (err) {
      const attempts = run.attempts + 1;
      const message = err instanceof Error ? err.message : String(err);
      console.error('scheduler: starting a run failed', run.schedule_id, run.due_at, err);
      const status = attempts >= MAX_START_ATTEMPTS ? 'failed' : 'pending';
      return this.#record(run, status, null, attempts, message, completed);
    } finally {
      this.#starting.delete(key);
    }
  }

  /**
   * Records a run's outcome, and `completed` (the job of the previous run, seen completed) as
   * the schedule's last completed job, in one transaction.
   */
  #record(
    run: PendingRun,
    status: RunStatus,
    jobId: string | null,
    attempts: number,
    error: string | null,
    completed: string | null = null,
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
      if (jobId !== null) {
        this.#sql.run('UPDATE schedules SET last_job_id = ? WHERE id = ?', jobId, run.schedule_id);
      }
      if (completed !== null) {
        this.#sql.run(
          'UPDATE schedules SET last_completed_job_id = ? WHERE id = ?',
          completed,
          run.schedule_id,
        );
      }
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
