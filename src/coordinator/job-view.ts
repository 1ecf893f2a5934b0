import type { JobChanges, JobSpec, JobStatus, JobView, Result } from '../jobs/types';
import { LatencyHistogram } from '../lib/histogram';
import type { UrlCounts } from './counts';
import type { RunSlot } from './handout-book';
import type { JobRecord, JobRow } from './job-record';
import type { AttemptRow, ResultFilter, UrlStore } from './url-store';

/** A job's latency histogram and byte total, over the Results that fetched. */
export class JobStats {
  readonly #hist = new LatencyHistogram();
  #bytes = 0;

  /** Adds one fetch's duration (ms) and bytes. */
  record(durationMs: number, bytes: number): void {
    if (durationMs > 0) this.#hist.record(durationMs);
    this.#bytes += bytes;
  }

  /** Adds a written Result. */
  add(result: Result): void {
    this.record(result.durationMs, result.bytes);
  }

  toJSON(): JobView['stats'] {
    return {
      p50Ms: this.#hist.quantile(0.5),
      p95Ms: this.#hist.quantile(0.95),
      bytes: this.#bytes,
    };
  }
}

/** URLs being fetched now: each running shard fetches up to its slots of what it holds. */
export function inFlightOf(runs: readonly RunSlot[], out: number): number {
  let running = 0;
  for (const r of runs) if (r.runId) running += Math.min(r.slots, r.held);
  return Math.min(out, running);
}

/** The largest time a Date holds (ms from the epoch either way). */
const MAX_DATE_MS = 8.64e15;

/**
 * A stored time as ISO 8601; null for one no Date can hold (a value stored before input was
 * bounded must not make every read of the job fail).
 */
function isoTime(ms: number): string | null {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : null;
}

/** The job as GET /v1/jobs/:id shows it. */
export function jobView(
  row: JobRow,
  spec: Pick<JobSpec, 'mode' | 'maxFailures' | 'redriveOf' | 'compareWith'>,
  counts: UrlCounts,
  inFlight: number,
  stats: JobStats,
  extra: { redrives?: readonly string[]; changes?: JobChanges | null } = {},
): JobView {
  const iso = (ms: number | null) => (ms === null ? null : isoTime(ms));
  return {
    id: row.job_id,
    owner: row.owner,
    status: row.status as JobStatus,
    mode: spec.mode,
    maxFailures: spec.mode === 'failFast' ? 0 : (spec.maxFailures ?? null),
    redriveOf: spec.redriveOf ?? null,
    redrives: [...(extra.redrives ?? [])],
    compareWith: spec.compareWith ?? null,
    changes: extra.changes ?? null,
    createdAt: isoTime(row.created_at) ?? new Date(0).toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    deadlineAt: iso(row.deadline_at),
    counts: {
      total: row.total,
      queued: counts.queued + counts.out - inFlight,
      inFlight,
      retrying: counts.retrying,
      succeeded: counts.succeeded,
      failed: counts.failed,
      cancelled: counts.cancelled,
    },
    stats: stats.toJSON(),
  };
}

/** One entry of the attempt log, as GET /v1/jobs/:id/attempts shows it (plus its idx). */
interface AttemptRecord {
  idx: number;
  url: string;
  attempt: number;
  at: string;
  status: number | null;
  kind: string;
  message: string;
  durationMs: number;
}

export interface AttemptsPage {
  items: AttemptRecord[];
  terminal: boolean;
}

/**
 * The bytes of Result bodies one page holds at most (beyond its first Result): a page of 1,000
 * Results with every field at its cap would pass the 32 MiB limit of an RPC answer.
 */
const RESULTS_PAGE_BYTES = 4 * 1024 * 1024;

export interface ResultsPage {
  bodies: string[];
  lastSeq: number;
  /** Whether Results settled after this page (when it was cut by rows or bytes). */
  more: boolean;
  terminal: boolean;
  /** The job's selector names, in order: the `data.<name>` columns of CSV. */
  selectors: string[];
}

/** Why a job's deadline cannot be moved now (terminal, or already ending), or null. */
export function deadlineLocked(record: JobRecord): string | null {
  if (record.terminal) return `the job is already ${record.status}`;
  const ending = record.ending;
  return ending ? `the job is already ending (${ending.status})` : null;
}

/** At most `limit` Results after sequence number `afterSeq`, and RESULTS_PAGE_BYTES. */
export function resultsPage(
  store: Pick<UrlStore, 'resultsAfter' | 'hasResultAfter'>,
  afterSeq: number,
  limit: number,
  job: { terminal: boolean; selectors: string[] },
  filter: ResultFilter = {},
): ResultsPage {
  const rows = store.resultsAfter(afterSeq, limit, RESULTS_PAGE_BYTES, filter);
  const lastSeq = rows.at(-1)?.seq ?? afterSeq;
  return {
    bodies: rows.map((r) => r.body),
    lastSeq,
    more: store.hasResultAfter(lastSeq, filter),
    terminal: job.terminal,
    selectors: job.selectors,
  };
}

/** An attempt log row as the API shows it. */
export function attemptRecord(r: AttemptRow): AttemptRecord {
  return {
    idx: r.idx,
    url: r.url,
    attempt: r.n,
    at: new Date(r.at).toISOString(),
    status: r.status,
    kind: r.kind,
    message: r.message,
    durationMs: r.duration_ms,
  };
}

/** What moving a job's deadline gives. */
export type DeadlineResult =
  | { ok: true; view: JobView }
  | { ok: false; code: 'not_found' | 'conflict'; message: string };
