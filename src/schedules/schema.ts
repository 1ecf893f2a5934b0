import { z } from 'zod';
import { type Issue, type JobLimits, notAnObject, parseJob, toIssues } from '../jobs/schema';
import { parseCron } from '../lib/cron';
import type { ScheduleNotify } from './types';

/**
 * A schedule's job is stored as the JSON it was submitted as, in one SQLite row (at most 2 MB),
 * and validated again by `parseJob` each time it starts.
 */
export const MAX_SCHEDULE_JOB_BYTES = 1_000_000;
const MAX_NAME = 200;
/** MAX_SCHEDULES_PER_KEY when the environment does not set it (or sets nonsense). */
const DEFAULT_SCHEDULES_PER_KEY = 100;

/** Schedules one API key may hold, from MAX_SCHEDULES_PER_KEY (0: none). */
export function schedulesPerKey(raw: string | undefined): number {
  const n = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isInteger(n) && n >= 0
    ? n
    : DEFAULT_SCHEDULES_PER_KEY;
}

export const shape = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(MAX_NAME),
  cron: z.string(),
  // Checked below by parseJob (a missing job too), so its issues carry job.<field> paths.
  job: z.unknown().optional(),
  compare: z.boolean().default(false),
  notify: z.enum(['always', 'changes']).optional(),
});

type ParsedSchedule =
  | {
      ok: true;
      name: string;
      cron: string;
      jobText: string;
      compare: boolean;
      notify: ScheduleNotify | null;
    }
  | { ok: false; issues: Issue[] };

/**
 * Validates a POST /v1/schedules body: `name`, a standard 5-field `cron` (UTC), a `job` that
 * POST /v1/jobs would accept (the same `parseJob`, its issues named `job.<field>`) from a caller
 * whose jobs may ask at most `maxConcurrency`, and optionally `compare` (each run's job is
 * compared with the last completed run's, so the template may not name its own `compareWith`)
 * and `notify` (every job's, whatever the template says).
 */
export function parseSchedule(
  body: unknown,
  limits: JobLimits,
  maxConcurrency = Number.POSITIVE_INFINITY,
): ParsedSchedule {
  const notObject = notAnObject(body);
  if (notObject) return { ok: false, issues: [notObject] };
  const parsed = shape.safeParse(body);
  const issues: Issue[] = parsed.success ? [] : toIssues(parsed.error.issues);
  const raw = body as { cron?: unknown; job?: unknown; compare?: unknown };
  let cron = '';
  if (typeof raw.cron === 'string') {
    const check = parseCron(raw.cron);
    if (check.ok) cron = check.cron;
    else issues.push({ path: 'cron', message: check.message });
  }
  let jobText = '';
  if (raw.job === undefined) {
    issues.push({ path: 'job', message: 'required: a job as POST /v1/jobs takes it' });
  } else {
    const job = parseJob(raw.job, limits);
    if (job.ok) {
      jobText = JSON.stringify(raw.job);
      const bytes = new TextEncoder().encode(jobText).byteLength;
      if (bytes > MAX_SCHEDULE_JOB_BYTES) {
        issues.push({ path: 'job', message: `at most ${MAX_SCHEDULE_JOB_BYTES} bytes of JSON` });
      }
      if (job.spec.concurrency > maxConcurrency) {
        const message = `at most ${maxConcurrency} for this API key (its maxConcurrency)`;
        issues.push({ path: 'job.concurrency', message });
      }
    } else {
      for (const i of job.issues) issues.push(...underJob(i));
    }
  }
  const t = raw.job;
  if (raw.compare === true && typeof t === 'object' && t !== null && 'compareWith' in t) {
    issues.push({ path: 'job.compareWith', message: 'give compare or job.compareWith, not both' });
  }
  if (issues.length > 0 || !parsed.success) return { ok: false, issues };
  const { name, compare, notify } = parsed.data;
  return { ok: true, name, cron, jobText, compare, notify: notify ?? null };
}

/**
 * A job's issue as a schedule names it: under `job.`; an unknown field of the job itself is
 * named by its own path (`job.concurency`), one issue per field.
 */
function underJob(i: Issue): Issue[] {
  if (i.path !== '(body)') return [{ path: `job.${i.path}`, message: i.message }];
  const unknown = /^unknown field\(s\) (.+)$/.exec(i.message)?.[1];
  if (unknown === undefined) return [{ path: 'job', message: i.message }];
  return unknown.split(', ').map((name) => ({ path: `job.${name}`, message: 'unknown field' }));
}
