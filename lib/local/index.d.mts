// Types of index.mjs (`import { startLocal } from 'scrape-fanout/local'`), for TypeScript users.

/** A job as POST /v1/jobs takes it (docs/api.md, "Fields and parameters"); left out: the defaults. */
export interface JobSpec {
  urls: string[];
  concurrency?: number;
  perHostConcurrency?: number;
  timeoutMs?: number;
  deadlineMs?: number;
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  mode?: 'settle' | 'failFast';
  /** The job ends failed past this many failed URLs (a count or "N%"). */
  maxFailures?: number | string;
  maxBytes?: number;
  respectRobots?: boolean;
  /** CSS selectors for `data`; `links`: the link URLs (`linkUrls`); `meta`: page metadata. */
  extract?: { selectors?: Record<string, string>; links?: boolean; meta?: boolean };
  callbackUrl?: string;
  /** Pages rendered in a browser: every one (`true`), or those that look script-built (`"auto"`). */
  render?:
    | boolean
    | 'auto'
    | {
        mode: boolean | 'auto';
        waitUntil?: 'load' | 'domcontentloaded' | 'networkidle0';
        waitForSelector?: string;
        blockResources?: boolean;
      };
  /** Browser tabs the job may have open at once (default 2). */
  renderConcurrency?: number;
}

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out';

export interface JobCounts {
  total: number;
  queued: number;
  inFlight: number;
  retrying: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/** GET /v1/jobs/:id. */
export interface JobView {
  id: string;
  owner: string;
  status: JobStatus;
  mode: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  deadlineAt: string | null;
  counts: JobCounts;
  stats: { p50Ms: number | null; p95Ms: number | null; bytes: number };
}

/** What POST /v1/jobs answers. */
export interface Submitted {
  id: string;
  status: JobStatus;
  accepted: number;
  duplicates: number;
}

/** The outcome of one URL (docs/api.md, "The Result"). */
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
  /** With `extract.links`. */
  linkUrls?: string[] | null;
  /** With `extract.meta`. */
  meta?: {
    description: string | null;
    canonical: string | null;
    ogTitle: string | null;
    lang: string | null;
  } | null;
  /** The page was rendered in a browser (`render`). */
  rendered: boolean;
  /** How long the render took; null when not rendered. */
  renderMs: number | null;
  etag: string | null;
  lastModified: string | null;
  /** `sha256:<hex>` of the decoded body; null when it was not read in full. */
  contentHash: string | null;
  notModified: boolean;
  /** Against `compareWith`; null when there is nothing to compare with. */
  changed: boolean | null;
  error: { kind: string; message: string } | null;
}

/** A log line of the runtime (the worker's console output among them). */
export interface RuntimeLog {
  timestamp: number;
  level: string;
  message: string;
}

export interface LocalOptions {
  /** Where Durable Object state lives; default a fresh temporary directory, deleted on close. */
  stateDir?: string;
  /** The bearer token of the runtime's API; default a random one. */
  token?: string;
  /** Lets jobs fetch loopback and private addresses; default true (local use). */
  allowPrivateTargets?: boolean;
  /** Worker vars over wrangler.toml's [vars] (e.g. SHARD_LEASE_MS). */
  vars?: Record<string, string>;
  /**
   * false: SIGINT, SIGTERM and SIGHUP are left to the caller (by default the runtime's handlers
   * stop it and exit the process). The runtime is stopped at process exit either way.
   */
  handleSignals?: boolean;
  /** Receives the runtime's log lines; default: dropped. */
  onLog?: (entry: RuntimeLog) => void;
}

/** Thrown for an error answer of the API (`code` as in docs/api.md, e.g. `invalid_request`). */
export declare class ApiError extends Error {
  status: number;
  code: string;
  details: unknown;
  retryAfter: number | null;
}

/** A client of the embedded runtime. */
export declare class LocalScrapeFanout {
  /** The runtime's HTTP address (use `token`), until it restarts. */
  readonly url: string;
  readonly token: string;
  readonly stateDir: string;
  /** The worker bundle used, whether this start built it, and how long starting took. */
  readonly info: { bundle: string; built: boolean; startupMs: number };
  /** Creates a job. */
  submit(spec: JobSpec, options?: { idempotencyKey?: string }): Promise<Submitted>;
  /** The job now. */
  job(id: string): Promise<JobView>;
  /** The final view once the job has ended; rejects with a TimeoutError after `timeoutMs`. */
  wait(id: string, options?: { timeoutMs?: number }): Promise<JobView>;
  /** Every Result in the order URLs settled, each once, as they settle, until the job ends. */
  results(id: string, options?: { signal?: AbortSignal }): AsyncGenerator<Result, void, void>;
  /** Cancels the job; resolves once every URL has its Result. */
  cancel(id: string): Promise<JobView>;
  /** Stops the runtime and deletes the state directory unless it was given. */
  close(): Promise<void>;
}

/** Starts the worker in an embedded runtime (no server, no wrangler process). */
export declare function startLocal(options?: LocalOptions): Promise<LocalScrapeFanout>;
