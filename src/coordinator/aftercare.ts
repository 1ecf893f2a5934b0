import type { JobView } from '../jobs/types';
import { callbackAttempt, deliverDueCallback } from './callback';
import type { JobRecord } from './job-record';

/** A failed report of the job's end to the job index is tried again this soon. */
const INDEX_RETRY_MS = 5_000;
/** JOB_RETENTION_SECONDS when the environment does not set it (or sets nonsense): 7 days. */
const DEFAULT_RETENTION_S = 7 * 24 * 3600;

/** How long a terminal job's data is kept, from JOB_RETENTION_SECONDS. */
export function retentionMs(raw: string | undefined): number {
  const s = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isFinite(s) && s >= 0
    ? s * 1000
    : DEFAULT_RETENTION_S * 1000;
}

export interface AftercareDeps {
  record: JobRecord;
  view: () => JobView;
  webhookSecret: string | undefined;
  isBlocked: ((url: URL) => boolean) | undefined;
  /** Tells the job index the job ended (so it no longer counts among its owner's active jobs). */
  reportEnd: (jobId: string, at: number) => Promise<void>;
  retentionMs: number;
  /** Deletes every trace of the job: its index entry, then all of its storage. */
  purge: () => Promise<void>;
}

/**
 * What a terminal job still owes, done from its alarm: the callback, the report of its end to
 * the job index, and, once the callback is settled and the retention time has passed since it
 * ended, deleting its data. Returns when the alarm should come back, or null when the job is
 * gone.
 */
export async function aftercare(d: AftercareDeps, now: number): Promise<number | null> {
  const { record } = d;
  const due: number[] = [];
  const nextCallback = await deliverDueCallback(record, d.view, d.webhookSecret, d.isBlocked);
  if (nextCallback !== null) due.push(nextCallback);
  if (record.row.index_state === 'pending') {
    try {
      await d.reportEnd(record.row.job_id, record.row.finished_at ?? now);
      record.setIndexState('done');
    } catch (err) {
      console.error('reporting the end to the job index failed', err);
      due.push(now + INDEX_RETRY_MS);
    }
  }
  const expiresAt = (record.row.finished_at ?? now) + d.retentionMs;
  const callbackSettled = callbackAttempt(record.row.callback_state) === null;
  if (callbackSettled && expiresAt <= now) {
    await d.purge();
    return null;
  }
  due.push(expiresAt);
  return Math.min(...due);
}
