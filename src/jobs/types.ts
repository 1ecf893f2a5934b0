import type { RenderSpec } from '../render/protocol';

/** The kinds of failure a Result can carry (docs/api.md, "Error kinds"). */
export const ERROR_KINDS = [
  'timeout',
  'network',
  'http_status',
  'too_large',
  'redirect_loop',
  'robots',
  'blocked_target',
  'cancelled',
  'deadline',
  'invalid_content',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

type JobMode = 'settle' | 'failFast';
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out';
export const TERMINAL_STATUSES: readonly JobStatus[] = [
  'completed',
  'failed',
  'cancelled',
  'timed_out',
];

interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A validated job, defaults applied: what the coordinator stores and the shards obey. */
export interface JobSpec {
  concurrency: number;
  perHostConcurrency: number;
  /** The least time between two request starts to one host (0 in jobs stored before it). */
  perHostDelayMs: number;
  timeoutMs: number;
  deadlineMs: number | null;
  retry: RetryPolicy;
  mode: JobMode;
  maxBytes: number;
  respectRobots: boolean;
  /** `links`, `meta`: absent in jobs stored before they existed, which is false. */
  extract: { selectors: Record<string, string>; links?: boolean; meta?: boolean };
  callbackUrl: string | null;
  /** Request headers sent with every page request (absent in jobs stored before them). */
  headers?: Record<string, string>;
  /** The User-Agent of the job's requests; null: the service's (src/fetch/user-agent.ts). */
  userAgent?: string | null;
  /**
   * Failed Results tolerated: a count, or "N%" of the job's URLs; more ends the job `failed`.
   * Null (or absent, in jobs stored before it existed): no limit; failFast means 0.
   */
  maxFailures?: number | string | null;
  /** The job this one redrives (POST /v1/jobs/:id/redrive), if any. */
  redriveOf?: string | null;
  /**
   * The terminal job whose Results this one is compared with (conditional requests, `changed`);
   * null or absent: none.
   */
  compareWith?: string | null;
  /** When the callback is sent: always, or ("changes") only when something changed. */
  notify?: 'always' | 'changes';
  /** `bodies`: ok HTML bodies are kept in R2 (src/bodies/); absent in older jobs: false. */
  store?: { bodies: boolean };
  /** Pages rendered in a browser, always or when script-built; null or absent: only fetched. */
  render?: RenderSpec | null;
  /** Browser tabs the job may have open at once (2 when absent). */
  renderConcurrency?: number;
}

/** A page's metadata (`extract.meta`): each field null when the page has none. */
export interface PageMeta {
  description: string | null;
  canonical: string | null;
  ogTitle: string | null;
  lang: string | null;
}

interface ResultError {
  kind: ErrorKind;
  message: string;
}

/** One URL's final outcome, exactly as the API returns it. */
export interface Result {
  url: string;
  finalUrl: string | null;
  ok: boolean;
  status: number | null;
  contentType: string | null;
  title: string | null;
  links: number;
  bytes: number;
  attempts: number;
  durationMs: number;
  fetchedAt: string | null;
  data: Record<string, string | null> | null;
  /** The page's `<a href>` URLs when `extract.links`, else null. */
  linkUrls: string[] | null;
  /** The page's metadata when `extract.meta`, else null. */
  meta: PageMeta | null;
  /** The page was rendered in a browser (`render`): its fields come from the rendered DOM. */
  rendered: boolean;
  /** The render's time (navigation, waiting, taking the HTML); null when not rendered. */
  renderMs: number | null;
  /** The final response's ETag and Last-Modified headers, or null. */
  etag: string | null;
  lastModified: string | null;
  /** `sha256:<hex>` of the decoded body; null when it was not read in full. */
  contentHash: string | null;
  /** The origin answered 304 to a conditional request (`compareWith`). */
  notModified: boolean;
  /** Against the compared job's Result of the same URL; null: nothing to compare with. */
  changed: boolean | null;
  error: ResultError | null;
}

/** What changed against the job named by `compareWith` (see docs/api.md, "Change detection"). */
export interface JobChanges {
  /** Results whose content differs from the previous Result's. */
  changed: number;
  /** Results the origin answered 304 for, or whose content hash is the previous one. */
  unchanged: number;
  /** URLs of this job the previous job did not have. */
  new: number;
  /** URLs of the previous job this job does not have. */
  gone: number;
}

export interface JobCounts {
  total: number;
  queued: number;
  inFlight: number;
  retrying: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface JobStats {
  p50Ms: number | null;
  p95Ms: number | null;
  bytes: number;
}

export interface JobView {
  id: string;
  /** "admin" or the id of the API key that created the job. */
  owner: string;
  status: JobStatus;
  mode: JobMode;
  /** The failed Results tolerated (a count or "N%"); 0 for failFast, null: no limit. */
  maxFailures: number | string | null;
  /** The job this one redrives, if any. */
  redriveOf: string | null;
  /** The jobs that redrive this one, oldest first. */
  redrives: string[];
  /** The job this one is compared with, if any. */
  compareWith: string | null;
  /** Null unless `compareWith` is set. */
  changes: JobChanges | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  deadlineAt: string | null;
  counts: JobCounts;
  stats: JobStats;
}

/** A validated job ready to be stored under its id (the `ok` side of `parseJob`). */
export interface NewJob {
  id: string;
  /** "admin" or the API key creating it. */
  owner: string;
  spec: JobSpec;
  urls: string[];
  norms: string[];
  /** SHA-256 of the body it came from: the same id with another body is a conflict. */
  bodyHash: string;
}

/** What storing a job gives: the job (new or the same one again), or a conflict. */
export type CreateOutcome =
  | { kind: 'created' | 'existing'; view: JobView; accepted: number; duplicates: number }
  | { kind: 'conflict'; message: string };
