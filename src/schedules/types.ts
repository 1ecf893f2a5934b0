/** What a schedule's run came to: `pending` until its job exists (or it gave up). */
export type RunStatus = 'pending' | 'started' | 'failed';

/** One due time of a schedule and the job it started, as the API shows it. */
export interface ScheduleRun {
  dueAt: string;
  status: RunStatus;
  /** The started job; null while pending and when the run failed before a job existed. */
  jobId: string | null;
  startedAt: string | null;
  attempts: number;
  error: string | null;
}

/** A schedule as listed by GET /v1/schedules. */
export interface ScheduleView {
  id: string;
  name: string;
  cron: string;
  createdAt: string;
  /** The next due time (UTC); null only if the expression has no future run left. */
  nextRunAt: string | null;
}

/** A schedule with its job (the JSON text it was submitted as) and its recent runs. */
export interface ScheduleDetail extends ScheduleView {
  jobText: string;
  runs: ScheduleRun[];
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
  name: string;
  cron: string;
  jobText: string;
  /** SHA-256 of `jobText`: the body hash its jobs are created with. */
  jobHash: string;
  createdAt: number;
}
