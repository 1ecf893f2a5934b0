import type { RunStatus, ScheduleNotify, ScheduleRun, ScheduleView } from './types';

/** The columns of a schedule that its view shows. */
export interface ScheduleRow extends Record<string, SqlStorageValue> {
  id: string;
  owner: string;
  name: string;
  cron: string;
  created_at: number;
  next_run_at: number | null;
  compare: number;
  notify: string | null;
}

/** `SELECT`s the columns of a ScheduleRow. */
export const SCHEDULE_COLUMNS = 'id, owner, name, cron, created_at, next_run_at, compare, notify';

export interface RunRow extends Record<string, SqlStorageValue> {
  schedule_id: string;
  due_at: number;
  status: string;
  job_id: string | null;
  attempts: number;
  started_at: number | null;
  error: string | null;
}

/** A run waiting for its job to be created, with what creating it takes. */
export interface PendingRun extends Record<string, SqlStorageValue> {
  schedule_id: string;
  due_at: number;
  attempts: number;
  job: string;
  job_hash: string;
  owner: string;
  /** The job of the schedule's latest started run, which must have ended first. */
  last_job_id: string | null;
  compare: number;
  notify: string | null;
  /** The job of the schedule's latest run known to have completed. */
  last_completed_job_id: string | null;
}

export const iso = (ms: number | null): string | null =>
  ms === null ? null : new Date(ms).toISOString();

export function toView(row: ScheduleRow): ScheduleView {
  return {
    id: row.id,
    owner: row.owner,
    name: row.name,
    cron: row.cron,
    createdAt: new Date(row.created_at).toISOString(),
    nextRunAt: iso(row.next_run_at),
    compare: row.compare === 1,
    notify: row.notify as ScheduleNotify | null,
  };
}

export function toRun(row: RunRow): ScheduleRun {
  return {
    dueAt: new Date(row.due_at).toISOString(),
    status: row.status as RunStatus,
    jobId: row.job_id,
    startedAt: iso(row.started_at),
    attempts: row.attempts,
    error: row.error,
  };
}
