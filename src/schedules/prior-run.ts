import { type JobSpec, type JobView, TERMINAL_STATUSES } from '../jobs/types';
import type { PendingRun } from './rows';
import type { ScheduleNotify } from './types';

/** A job's view as the admin reads it; null when the job is gone (purged, past retention). */
type ViewOf = (jobId: string) => Promise<Pick<JobView, 'status'> | null>;

/** What a run learns from the schedule's earlier jobs before it starts its own. */
export interface PriorRun {
  /**
   * Why the run must not start: the job of the previous started run has not ended (overlapping
   * runs of one schedule fill storage fastest). Null when it ended or is gone.
   */
  busy: string | null;
  /** That job, when it completed: the schedule's last completed job from now on. */
  completed: string | null;
  /** The job the run's job is compared with; null without `compare` or with nothing to compare. */
  compareWith: string | null;
}

/**
 * Reads the job of the schedule's previous started run and, for a schedule with `compare`, picks
 * the job to compare with: that job when it completed, else the last completed job kept from
 * an earlier run while it still exists. A first run, or one whose candidates are all gone, is
 * not compared.
 */
export async function readPriorRun(run: PendingRun, viewOf: ViewOf): Promise<PriorRun> {
  const lastId = run.last_job_id;
  const last = lastId === null ? null : await viewOf(lastId);
  if (last && !TERMINAL_STATUSES.includes(last.status)) {
    const busy = `the previous run's job ${lastId} is still ${last.status}`;
    return { busy, completed: null, compareWith: null };
  }
  const completed = last?.status === 'completed' ? lastId : null;
  if (run.compare !== 1 || completed !== null) {
    return { busy: null, completed, compareWith: run.compare === 1 ? completed : null };
  }
  const kept = run.last_completed_job_id;
  // The previous job was read just above: if it is the kept one, it is gone.
  const exists = kept !== null && kept !== lastId && (await viewOf(kept)) !== null;
  return { busy: null, completed: null, compareWith: exists ? kept : null };
}

/** The spec of a run's job: the template's, compared and notifying as the schedule says. */
export function runSpec(template: JobSpec, run: PendingRun, compareWith: string | null): JobSpec {
  const spec = { ...template };
  if (run.compare === 1) spec.compareWith = compareWith;
  if (run.notify !== null) spec.notify = run.notify as ScheduleNotify;
  return spec;
}
