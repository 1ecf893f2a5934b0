import { z } from 'zod';
import {
  deadlinePatchSchema,
  jobOptionsSchema,
  LIMITS,
  renderMode,
  renderObject,
} from '../jobs/schema';
import { keySchema } from '../keys/schema';
import { MAX_URL_LENGTH } from '../lib/normalize-url';
import { shape as scheduleSchema } from '../schedules/schema';

// Request bodies: the schemas that validate them, with what their checks outside zod enforce
// (URLs, selector count) written in, and every field described.

/** What `parseTarget` accepts first: an absolute http(s) URL, surrounding spaces trimmed. */
const targetUrl = z
  .string()
  .max(MAX_URL_LENGTH)
  .regex(/^\s*[Hh][Tt][Tt][Pp][Ss]?:\/\//);

/** One line per field: the compiler insists that a new field gets one. */
export const JOB_FIELDS: Record<keyof z.input<typeof jobOptionsSchema>, string> = {
  urls: 'absolute http(s) URLs, normalised and deduplicated (the first spelling is kept)',
  concurrency: 'fetches in flight for the whole job (at most the API key’s maxConcurrency)',
  perHostConcurrency: 'fetches in flight per host (`host:port`); default: `concurrency`',
  perHostDelayMs:
    'least ms between two request starts to one host (`host:port`), across all shards; ' +
    'with `respectRobots` a robots.txt `Crawl-delay` (at most 60 s) raises it',
  timeoutMs: 'per attempt: connect, every redirect hop and the whole body',
  deadlineMs: 'whole-job deadline from creation; unsettled URLs then get kind `deadline`',
  retry: 'attempts in all, exponential backoff with full jitter',
  mode: '`settle`: every URL settles. `failFast`: the first permanent failure cancels the rest',
  maxFailures:
    'failed Results tolerated, a count or `"N%"` of the URLs; one more ends the job `failed`',
  maxBytes: 'per response; larger bodies stop being read (kind `too_large`)',
  respectRobots: 'honour robots.txt (disallowed URLs get kind `robots`)',
  extract:
    '`selectors`: up to 20 `name: CSS selector`, `data[name]` is the first match’s text; ' +
    '`links`: `linkUrls`, the page’s link URLs; `meta`: `meta`, its description, canonical ' +
    'URL, og:title and language',
  callbackUrl: 'POSTed the final job view when the job ends (https, public host)',
  headers:
    'up to 20 request headers sent with every page request (not Host, Content-Length, ' +
    'hop-by-hop ones or User-Agent); credentials are not sent to another origin on a redirect',
  userAgent: 'the User-Agent of page and robots.txt requests (robots.txt rules match it)',
  compareWith:
    'a terminal job of the caller to compare with: its validators go out as If-None-Match / ' +
    'If-Modified-Since, and each Result says whether it `changed` (unknown job: 400, running: 409)',
  notify: '`always` (default), or `changes`: the callback is sent only when something changed',
  store:
    '`bodies`: keep each ok HTML body (decoded) in R2, read back with ' +
    '`GET /v1/jobs/{id}/bodies/{contentHash hex}`; deleted with the job',
  render:
    '`false` (default): pages are fetched; `true`: every page is rendered in a browser; ' +
    '`"auto"`: fetched, then rendered when it looks built by its scripts. An object refines ' +
    'it: `mode` (one of those), `waitUntil` (`load`, `domcontentloaded`, `networkidle0`), ' +
    '`waitForSelector`, `blockResources` (images, media and fonts not loaded; default true)',
  renderConcurrency: 'browser tabs the job may have open at once (with `render`)',
};

/** `render` as an object, each field described. */
const renderRequest = renderObject.extend({
  mode: renderMode.meta({ description: '`true`, `false` or `"auto"`, as `render` itself' }),
  waitUntil: renderObject.shape.waitUntil.meta({
    description:
      'when the navigation counts as loaded: its load event, DOMContentLoaded, or no network ' +
      'connection for 500 ms',
  }),
  waitForSelector: renderObject.shape.waitForSelector.meta({
    description: 'a CSS selector the page must show before its HTML is taken',
  }),
  blockResources: renderObject.shape.blockResources.meta({
    description: 'images, media and fonts are not loaded',
  }),
});

/** The body of POST /v1/jobs for a deployment that takes at most `maxUrls` URLs per job. */
export function jobRequest(maxUrls: number) {
  return jobOptionsSchema.extend({
    urls: z.array(targetUrl).min(1).max(maxUrls),
    extract: z
      .strictObject({
        selectors: z
          .record(z.string().min(1).max(100), z.string().min(1).max(500))
          .meta({ maxProperties: LIMITS.maxSelectors })
          .default({}),
        links: z.boolean().default(false),
        meta: z.boolean().default(false),
      })
      .optional(),
    callbackUrl: targetUrl.optional(),
    render: z.union([renderMode, renderRequest]).default(false),
  });
}

export const deadlineChange = deadlinePatchSchema.extend({
  deadlineMs: deadlinePatchSchema.shape.deadlineMs.meta({
    description: 'the new deadline in ms from the job’s creation, earlier or later',
  }),
});

export const keyRequest = keySchema.extend({
  name: keySchema.shape.name.meta({ description: 'who or what the key is for' }),
  maxActiveJobs: keySchema.shape.maxActiveJobs.meta({
    description: 'jobs not yet ended; one more is a 429',
  }),
  maxConcurrency: keySchema.shape.maxConcurrency.meta({
    description: 'the largest `concurrency` a job may ask',
  }),
});

/** A schedule's body; `job` is exactly a POST /v1/jobs body. */
export function scheduleRequest(job: z.ZodType) {
  return scheduleSchema.extend({
    name: scheduleSchema.shape.name.meta({ description: 'shown in lists' }),
    cron: scheduleSchema.shape.cron.meta({
      description: 'standard 5-field expression (minute hour day month weekday), in UTC',
    }),
    job,
    compare: scheduleSchema.shape.compare.meta({
      description:
        "each run's job gets `compareWith`: the job of the schedule's last completed run (none " +
        'for the first run); not together with `job.compareWith`',
    }),
    notify: scheduleSchema.shape.notify.meta({
      description:
        '`always` or `changes` (the callback only when something changed) for every job it ' +
        "starts, whatever the job's own `notify`",
    }),
  });
}
