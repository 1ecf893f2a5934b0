import type { JobChanges, JobSpec } from '../jobs/types';

/**
 * What a schedule's run came to: `pending` until its job exists (or it gave up); `skipped` when
 * the job of the schedule's previous started run had not ended, so no job was started.
 */
export type RunStatus = 'pending' | 'started' | 'failed' | 'skipped';

/** One due time of a schedule and the job it started, as the API shows it. */
export interface ScheduleRun {
  dueAt: string;
  status: RunStatus;
  /** The started job; null while pending, when skipped, and when it failed before one existed. */
  jobId: string | null;
  startedAt: string | null;
  attempts: number;
  error: string | null;
}

/** When the jobs of a schedule send their callback (JobSpec `notify`). */
export type ScheduleNotify = NonNullable<JobSpec['notify']>;

/** A run as GET /v1/schedules/:id shows it: with what its job found changed. */
export interface ScheduleRunView extends ScheduleRun {
  /** The job's `changes`; null without a job, when the job is not compared, or is gone. */
  changes: JobChanges | null;
}

/** A schedule as listed by GET /v1/schedules. */
export interface ScheduleView {
  id: string;
  /** "admin" or the id of the API key that created it: the owner of the jobs it starts. */
  owner: string;
  name: string;
  cron: string;
  createdAt: string;
  /** The next due time (UTC); null only if the expression has no future run left. */
  nextRunAt: string | null;
  /** Each run's job is compared with (`compareWith`) the job of the last completed run. */
  compare: boolean;
  /** The `notify` of every job it starts; null: the job template's own. */
  notify: ScheduleNotify | null;
}

/** A schedule with its job (the JSON text it was submitted as) and its recent runs. */
export interface ScheduleDetail extends ScheduleView {
  jobText: string;
  runs: ScheduleRun[];
}

/** GET /v1/schedules/:id: the schedule, its job as submitted, its recent runs with changes. */
export interface ScheduleDetailView extends ScheduleView {
  job: unknown;
  runs: ScheduleRunView[];
}

/** What one tick of the scheduler did: every run it tried to start, with its outcome. */
export interface TickReport {
  runs: {
    scheduleId: string;
    dueAt: string;
    status: RunStatus;
    jobId: string | null;
    error: string | null;
  }[];
}

/** The input of Scheduler.create: a validated schedule. */
export interface NewSchedule {
  id: string;
  owner: string;
  name: string;
  cron: string;
  jobText: string;
  /** SHA-256 of `jobText`: the body hash its jobs are created with. */
  jobHash: string;
  createdAt: number;
  compare: boolean;
  notify: ScheduleNotify | null;
}

/** What Scheduler.create answers: the schedule, or the owner's count when it is at its cap. */
export type CreatedSchedule = { ok: true; view: ScheduleView } | { ok: false; held: number };
