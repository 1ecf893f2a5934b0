import { newJobId, sha256Hex } from './ids';

/** A new schedule id: like a job id (time-ordered, then random) but starting with `s`. */
export function newScheduleId(now = Date.now()): string {
  return `s${newJobId(now).slice(1)}`;
}

/** What a schedule id looks like (unanchored, to build the patterns that contain one). */
export const SCHEDULE_ID = /s[0-9a-z]{21}/;
const WHOLE_SCHEDULE_ID = new RegExp(`^${SCHEDULE_ID.source}$`);

/** Whether a path segment can be a schedule id at all (cheap 404 before touching storage). */
export function isScheduleId(id: string): boolean {
  return WHOLE_SCHEDULE_ID.test(id);
}

/**
 * The id of the job a schedule starts for one due time. Deterministic, so a repeated or doubled
 * start for the same (schedule, due time) reaches the same coordinator and finds the job there.
 * It has the shape of an Idempotency-Key job id (`k` + 24 hex digits); the derivation differs
 * (no API token, a fixed prefix), so no client key can name it by accident.
 */
export async function scheduledJobId(scheduleId: string, dueAt: number): Promise<string> {
  const digest = await sha256Hex(`scrape-fanout/schedule\n${scheduleId}\n${dueAt}`);
  return `k${digest.slice(0, 24)}`;
}
