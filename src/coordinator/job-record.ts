import type { ErrorKind, JobSpec, JobStatus } from '../jobs/types';
import { TERMINAL_STATUSES } from '../jobs/types';
import type { Sql } from '../lib/sql';
import { newCompareState } from './comparison';

/** The job's one row. */
export interface JobRow extends Record<string, SqlStorageValue> {
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
  /** `pending:<attempts so far>`, `delivered` or `failed`; NULL without a callback. */
  callback_state: string | null;
  /** JSON of an Ending while the job is being terminated; NULL otherwise. */
  ending: string | null;
  /** "admin" or the id of the API key that created the job. */
  owner: string;
  /** 'pending' once terminal until the job index knows; NULL before, 'done' after. */
  index_state: string | null;
  /** JSON of the comparison's CompareState when `compareWith` is set; NULL otherwise. */
  compare: string | null;
}

/** How a job being terminated ends: its terminal status and the error of unsettled URLs. */
export interface Ending {
  status: JobStatus;
  kind: ErrorKind;
  message: string;
}

/** Whether a status is one a job never leaves. */
const isTerminal = (s: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(s);

/**
 * The job row and the shard runs table: every SQL statement on `job` and `shards`. The row it
 * holds in memory follows every write.
 */
export class JobRecord {
  readonly #sql: Sql;
  readonly row: JobRow;
  readonly spec: JobSpec;
  /** The jobs redriving this one, oldest first (at most MAX_REDRIVES). */
  readonly redrives: string[];

  private constructor(sql: Sql, row: JobRow) {
    this.#sql = sql;
    this.row = row;
    // A job stored before perHostDelayMs existed has none: 0.
    const stored = JSON.parse(row.spec) as Omit<JobSpec, 'perHostDelayMs'> & {
      perHostDelayMs?: number;
    };
    this.spec = { ...stored, perHostDelayMs: stored.perHostDelayMs ?? 0 };
    this.redrives = sql
      .all<{ job_id: string }>('SELECT job_id FROM redrives ORDER BY created_at, job_id')
      .map((r) => r.job_id);
  }

  /** The job stored here, or null. */
  static load(sql: Sql): JobRecord | null {
    const row = sql.one<JobRow>('SELECT * FROM job WHERE id = 1');
    return row ? new JobRecord(sql, row) : null;
  }

  /** Stores a new job's row and its shard runs table (`slots` per run). */
  static insert(
    sql: Sql,
    job: {
      jobId: string;
      owner: string;
      spec: JobSpec;
      bodyHash: string;
      total: number;
      duplicates: number;
    },
    slots: readonly number[],
    now: number,
  ): void {
    slots.forEach((n, idx) => {
      sql.run('INSERT INTO shards (idx, slots) VALUES (?, ?)', idx, n);
    });
    const deadlineAt = job.spec.deadlineMs === null ? null : now + job.spec.deadlineMs;
    sql.run(
      `INSERT INTO job (id, job_id, spec, body_hash, status, created_at, deadline_at, total,
         duplicates, owner, compare) VALUES (1, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
      job.jobId,
      JSON.stringify(job.spec),
      job.bodyHash,
      now,
      deadlineAt,
      job.total,
      job.duplicates,
      job.owner,
      job.spec.compareWith ? JSON.stringify(newCompareState()) : null,
    );
  }

  get status(): JobStatus {
    return this.row.status as JobStatus;
  }

  get terminal(): boolean {
    return isTerminal(this.row.status);
  }

  /** The ending under way (persisted), if the job is being terminated. */
  get ending(): Ending | null {
    const e = this.row.ending;
    return e !== null && !this.terminal ? (JSON.parse(e) as Ending) : null;
  }

  /** The first URL handed out starts the job. */
  markRunning(now: number): void {
    if (this.row.status !== 'queued') return;
    this.#sql.run("UPDATE job SET status = 'running', started_at = ? WHERE id = 1", now);
    this.row.status = 'running';
    this.row.started_at = now;
  }

  /** Sets a terminal status; the ending marker goes with it. */
  finish(status: JobStatus, now: number): void {
    this.#sql.run(
      'UPDATE job SET status = ?, finished_at = ?, ending = NULL WHERE id = 1',
      status,
      now,
    );
    this.row.status = status;
    this.row.finished_at = now;
    this.row.ending = null;
  }

  setDeadline(at: number): void {
    this.#sql.run('UPDATE job SET deadline_at = ? WHERE id = 1', at);
    this.row.deadline_at = at;
  }

  setEnding(ending: Ending): void {
    const marker = JSON.stringify(ending);
    this.#sql.run('UPDATE job SET ending = ? WHERE id = 1', marker);
    this.row.ending = marker;
  }

  setIndexState(state: 'pending' | 'done'): void {
    this.#sql.run('UPDATE job SET index_state = ? WHERE id = 1', state);
    this.row.index_state = state;
  }

  /** Records a job redriving this one (idempotent). */
  addRedrive(jobId: string, now: number): void {
    if (this.redrives.includes(jobId)) return;
    this.#sql.run('INSERT OR IGNORE INTO redrives (job_id, created_at) VALUES (?, ?)', jobId, now);
    this.redrives.push(jobId);
  }

  setCallbackState(state: string): void {
    this.#sql.run('UPDATE job SET callback_state = ? WHERE id = 1', state);
    this.row.callback_state = state;
  }

  /** The shard runs: connections of each and the run it was last given, if any. */
  loadRuns(): Array<{ slots: number; run_id: string | null }> {
    return this.#sql.all('SELECT slots, run_id FROM shards ORDER BY idx');
  }

  /** Names the run a shard was started with (null: none runs). */
  setRun(idx: number, runId: string | null): void {
    this.#sql.run('UPDATE shards SET run_id = ? WHERE idx = ?', runId, idx);
  }

  /** Forgets every shard's run. */
  clearRuns(): void {
    this.#sql.run('UPDATE shards SET run_id = NULL');
  }
}
