import type { PageOutcome } from '../fetch/fetch-page';
import type { RobotsRules } from '../lib/robots';
import type { RenderSpec } from '../render/protocol';

/**
 * The production limit of outgoing connections waiting for headers per invocation. A Durable
 * Object shares one I/O context, so one shard never holds more fetches than this in flight.
 */
export const MAX_CONNECTIONS_PER_SHARD = 6;

/**
 * A shard holds up to this many times its slots (running plus waiting here), so it can report
 * outcomes in batches while its slots stay busy. The coordinator counts shard capacity by it.
 */
export const PREFETCH_FACTOR = 6;

/** What a shard needs to run its part of a job; fixed for one run of the shard. */
export interface ShardAssignment {
  jobId: string;
  shardIdx: number;
  runId: string;
  slots: number;
  timeoutMs: number;
  maxBytes: number;
  selectors: Record<string, string>;
  /** The job's `extract.links` and `extract.meta` (false when absent). */
  links?: boolean;
  meta?: boolean;
  allowPrivate: boolean;
  /** The User-Agent of the run's requests (see src/fetch/user-agent.ts); the default if absent. */
  userAgent?: string;
  /** The job's own request headers, sent with every page request. */
  headers?: Record<string, string>;
  /** The job's `store.bodies`: ok HTML bodies go to R2 (src/bodies/); false when absent. */
  storeBodies?: boolean;
  /** The job's `render`: pages go to its renderer, always or when script-built; absent: off. */
  render?: RenderSpec;
  /** Browser tabs the job may have open at once (its `renderConcurrency`). */
  renderConcurrency?: number;
  /** The shard calls in at least this often while busy, which renews its lease. */
  heartbeatMs: number;
  /** The run's first URLs, handed out to it with its start. */
  items: WorkItem[];
  /** Hosts held back (Retry-After) at start, as in ExchangeReply. */
  holds: Array<{ host: string; until: number }>;
}

/**
 * `notBefore`: the epoch ms before which the item must not start (its host's pacing).
 * `etag`, `lastModified`: the validators of the URL's Result in the job it is compared with
 * (`compareWith`), sent as If-None-Match and If-Modified-Since.
 */
export type WorkItem =
  | {
      type: 'page';
      idx: number;
      url: string;
      host: string;
      notBefore?: number;
      etag?: string;
      lastModified?: string;
    }
  | { type: 'robots'; hostId: number; url: string; notBefore?: number };

export type WorkOutcome =
  | { type: 'page'; idx: number; outcome: PageOutcome }
  | { type: 'robots'; hostId: number; rules: RobotsRules };

/** A shard's report: what finished since the last call, and how much more it can take. */
export interface ExchangeRequest {
  shardIdx: number;
  runId: string;
  outcomes: WorkOutcome[];
  /**
   * Pages whose fetch started since the last call and is still running: the coordinator
   * counts these attempts now, so a fetch cut off by a crash still counts as an attempt.
   */
  started: number[];
  want: number;
  /** Fetches running now. */
  inflight: number;
  /** Items received but not started yet. */
  queued: number;
  /** The run has used its budget of fetches and wants to be replaced by a fresh one. */
  retiring: boolean;
}

/** `stop`: nothing left for this run, finish and exit. `abort`: drop everything now. */
export interface ExchangeReply {
  items: WorkItem[];
  stop: boolean;
  abort: boolean;
  /** Hosts held back (Retry-After) until the given epoch ms: queued items for them wait. */
  holds?: Array<{ host: string; until: number }>;
  /**
   * Queued work exists that this shard could not be given yet (host limits, holds): report
   * each finished fetch at once, since it frees a host slot for the next URL.
   */
  eager?: boolean;
  /**
   * Nothing is queued at the coordinator: report outcomes in batches or once idle, and ask
   * for work only when idle (retries that fall due go to idle runs).
   */
  dry?: boolean;
}

/** The reply that tells a run to drop everything now (the job ended, or it is not current). */
export const ABORT: ExchangeReply = { items: [], stop: true, abort: true };
/** The reply that tells a run to finish what it holds and exit. */
export const STOP: ExchangeReply = { items: [], stop: true, abort: false };

/** Splits a job's concurrency into shards of at most MAX_CONNECTIONS_PER_SHARD slots each. */
export function planShards(concurrency: number): number[] {
  const n = Math.ceil(concurrency / MAX_CONNECTIONS_PER_SHARD);
  const base = Math.floor(concurrency / n);
  const extra = concurrency % n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}
