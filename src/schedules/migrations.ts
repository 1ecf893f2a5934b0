import { ADMIN_OWNER } from '../keys/types';

/**
 * Append-only, versioned migrations of the Scheduler's SQLite database. Never edit a shipped
 * entry: add a new one.
 */
export const SCHEDULER_MIGRATIONS: readonly string[] = [
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
  // v2: a schedule belongs to an owner (the admin or an API key), and so do the jobs it starts.
  // `last_job_id` is the job of its latest started run, kept here because the run history is
  // pruned: a run is skipped while that job has not ended, however many runs were skipped.
  `ALTER TABLE schedules ADD COLUMN owner TEXT NOT NULL DEFAULT '${ADMIN_OWNER}';
   ALTER TABLE schedules ADD COLUMN last_job_id TEXT;
   UPDATE schedules SET last_job_id = (
     SELECT job_id FROM runs WHERE runs.schedule_id = schedules.id AND job_id IS NOT NULL
     ORDER BY due_at DESC LIMIT 1);
   CREATE INDEX schedules_owner_newest ON schedules (owner, created_at DESC, id DESC);`,
  // v3: change detection. `compare` (0/1) compares each run's job with the job of the last
  // completed run, `last_completed_job_id`, kept here for the same reason as `last_job_id`;
  // `notify` ('always', 'changes' or NULL: the job template's) is given to every job started.
  `ALTER TABLE schedules ADD COLUMN compare INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE schedules ADD COLUMN notify TEXT;
   ALTER TABLE schedules ADD COLUMN last_completed_job_id TEXT;`,
];
