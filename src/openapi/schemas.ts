import { z } from 'zod';
import type { AttemptsPage } from '../coordinator/job-view';
import { ERROR_KINDS, type JobView, type Result } from '../jobs/types';
import type { KeyView, NewKey } from '../keys/types';
import { type ErrorCode, STATUS } from '../middleware/errors';
import type { ScheduleDetailView, ScheduleRunView, ScheduleView } from '../schedules/types';

// Response bodies as zod schemas, for the OpenAPI document only. The TypeScript types are the
// truth: `exact<T>()` makes the build fail when a schema and its type differ in any field.

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Passes `schema` through when its output type is exactly `T`; a type error otherwise. */
function exact<T>() {
  return <S extends z.ZodType>(schema: S & (Same<z.output<S>, T> extends true ? unknown : never)) =>
    schema;
}

const time = z.string().meta({ format: 'date-time' });
const count = z.int().min(0);
const owner = z.string().meta({
  description: '`admin`, or the id of the API key that created it',
});
const cursor = z.string().nullable().meta({
  description: 'pass it as `cursor` for the next page; null when nothing more follows',
});

export const jobView = exact<JobView>()(
  z.strictObject({
    id: z.string(),
    owner,
    status: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'timed_out']),
    mode: z.enum(['settle', 'failFast']),
    maxFailures: z.union([count, z.string()]).nullable().meta({
      description: 'failed Results tolerated (a count or "N%"); 0 for failFast; null: no limit',
    }),
    redriveOf: z.string().nullable().meta({ description: 'the job this one redrives' }),
    redrives: z
      .array(z.string())
      .meta({ description: 'the jobs redriving this one, oldest first' }),
    compareWith: z.string().nullable().meta({ description: 'the job this one is compared with' }),
    changes: z
      .strictObject({
        changed: count.meta({ description: 'Results whose content hash differs' }),
        unchanged: count.meta({ description: 'Results answered 304, or with the same hash' }),
        new: count.meta({ description: 'URLs the compared job did not have' }),
        gone: count.meta({ description: 'URLs of the compared job this one does not have' }),
      })
      .nullable()
      .meta({ description: 'against `compareWith`; null without it' }),
    createdAt: time,
    startedAt: time.nullable(),
    finishedAt: time.nullable(),
    deadlineAt: time.nullable(),
    counts: z.strictObject({
      total: count,
      queued: count,
      inFlight: count.meta({ description: 'fetches running in shards now' }),
      retrying: count,
      succeeded: count,
      failed: count,
      cancelled: count.meta({ description: 'Results of kind `cancelled` or `deadline`' }),
    }),
    stats: z.strictObject({
      p50Ms: z.number().nullable(),
      p95Ms: z.number().nullable(),
      bytes: count,
    }),
  }),
);

/** An events-stream payload: the job view plus the settle rate since the previous event. */
export const progressEvent = jobView.extend({ ratePerSec: z.number().min(0) });

export const result = exact<Result>()(
  z.strictObject({
    url: z.string().meta({ description: 'the URL as submitted (its first spelling)' }),
    finalUrl: z.string().nullable().meta({ description: 'after redirects' }),
    ok: z.boolean(),
    status: z.int().min(100).max(599).nullable(),
    contentType: z.string().nullable(),
    title: z.string().nullable(),
    links: count,
    bytes: count,
    attempts: count,
    durationMs: z.number().min(0),
    fetchedAt: time.nullable(),
    data: z.record(z.string(), z.string().nullable()).nullable().meta({
      description: 'text of the first match of each `extract.selectors` entry',
    }),
    linkUrls: z
      .array(z.string())
      .nullable()
      .meta({
        description:
          'with `extract.links`: the distinct http(s) URLs of `<a href>`, absolute, without ' +
          'fragments, in document order, at most 1,000; null when not asked',
      }),
    meta: z
      .strictObject({
        description: z.string().nullable(),
        canonical: z.string().nullable(),
        ogTitle: z.string().nullable(),
        lang: z.string().nullable(),
      })
      .nullable()
      .meta({
        description:
          'with `extract.meta`: `<meta name=description>`, `<link rel=canonical>` (absolute), ' +
          '`<meta property=og:title>`, `<html lang>`, each null when absent; null when not asked',
      }),
    rendered: z.boolean().meta({
      description:
        'the page was rendered in a browser (`render`): every field above comes from the ' +
        'rendered DOM',
    }),
    renderMs: z
      .number()
      .min(0)
      .nullable()
      .meta({ description: 'how long the render took; null when not rendered' }),
    etag: z.string().nullable().meta({ description: "the final response's ETag header" }),
    lastModified: z
      .string()
      .nullable()
      .meta({ description: "the final response's Last-Modified header" }),
    contentHash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/)
      .nullable()
      .meta({
        description:
          '`sha256:<hex>` of the body as received after content decoding; null when the body ' +
          "was not read in full. A 304 carries the previous Result's forward",
      }),
    notModified: z.boolean().meta({ description: 'the origin answered 304 (`compareWith`)' }),
    changed: z
      .boolean()
      .nullable()
      .meta({
        description:
          "against the `compareWith` job's Result of the same URL: false for a 304 or the same " +
          'hash; null when there is nothing to compare with (no job, a new URL, a failure)',
      }),
    error: z.strictObject({ kind: z.enum(ERROR_KINDS), message: z.string() }).nullable(),
  }),
);

export const attempt = exact<Omit<AttemptsPage['items'][number], 'idx'>>()(
  z.strictObject({
    url: z.string(),
    attempt: z.int().min(1),
    at: time,
    status: z.int().min(100).max(599).nullable(),
    kind: z.string().meta({ description: 'an error kind of Results, or `lost`' }),
    message: z.string(),
    durationMs: z.number().min(0),
  }),
);

export const jobAccepted = z.strictObject({
  id: z.string(),
  status: jobView.shape.status,
  accepted: count.meta({ description: 'unique URLs in the job' }),
  duplicates: count.meta({ description: 'URLs dropped as duplicates of earlier ones' }),
  links: z.strictObject({ self: z.string(), results: z.string(), events: z.string() }),
});

export const jobPurged = z.strictObject({ id: z.string(), purged: z.literal(true) });
export const deleted = z.strictObject({ id: z.string(), deleted: z.literal(true) });

export const keyView = exact<KeyView>()(
  z.strictObject({
    id: z.string(),
    name: z.string(),
    maxActiveJobs: z.int().min(1),
    maxConcurrency: z.int().min(1),
    createdAt: time,
  }),
);

export const newKey = exact<NewKey>()(
  keyView.extend({ token: z.string().meta({ description: 'shown only in this answer' }) }),
);

export const scheduleView = exact<ScheduleView>()(
  z.strictObject({
    id: z.string(),
    owner,
    name: z.string(),
    cron: z.string().meta({ description: '5 fields, UTC' }),
    createdAt: time,
    nextRunAt: time.nullable(),
    compare: z.boolean().meta({
      description: "each run's job is compared with the job of the last completed run",
    }),
    notify: z
      .enum(['always', 'changes'])
      .nullable()
      .meta({ description: "the `notify` of every job it starts; null: the job's own" }),
  }),
);

export const scheduleRun = exact<ScheduleRunView>()(
  z.strictObject({
    dueAt: time,
    status: z.enum(['pending', 'started', 'failed', 'skipped']),
    jobId: z.string().nullable(),
    startedAt: time.nullable(),
    attempts: count,
    error: z.string().nullable(),
    changes: jobView.shape.changes.meta({
      description: "the job's `changes`; null without a job, when it is not compared, or is gone",
    }),
  }),
);

/** Stands for the stored job of a schedule; the document points it at the request schema. */
export const submittedJob = z.unknown();

export const scheduleDetail = exact<ScheduleDetailView>()(
  scheduleView.extend({ job: submittedJob, runs: z.array(scheduleRun) }),
);

/** A page of a paginated list. */
export function page(item: z.ZodType) {
  return z.strictObject({ items: z.array(item), nextCursor: cursor });
}

const ERROR_CODES = Object.keys(STATUS) as [ErrorCode, ...ErrorCode[]];
const issue = z.object({ path: z.string(), message: z.string() });

/** The error envelope, for any code or for one. */
export function errorEnvelope(code?: ErrorCode) {
  return z.strictObject({
    error: z.strictObject({
      code: code ? z.literal(code) : z.enum(ERROR_CODES),
      message: z.string(),
      details: z.array(issue).optional().meta({ description: 'every problem, by field' }),
    }),
  });
}
