import type { PageOutcome } from '../fetch/fetch-page';
import type { JobSpec } from '../jobs/types';
import { backoffDelayMs, nextRetryDelayMs, parseRetryAfter } from '../lib/backoff';
import { isRetryable } from '../lib/retry-policy';
import { PREFETCH_FACTOR } from '../shard/protocol';

/**
 * The pure rules of a job's coordinator: how much work a shard run gets, which runs start,
 * and what becomes of an attempt. The Durable Object only feeds them its state.
 */

/**
 * The last this many rounds of a job's connections go to the first connection that frees up,
 * without prefetch (see inLastRounds).
 */
const LAST_ROUNDS = 2;

/** A shard run as the hand-out rules see it. */
interface RunLoad {
  /** Its connections. */
  slots: number;
  /** URLs out with it and not reported (running or waiting in its queue). */
  held: number;
}

/**
 * Whether the job is in its last rounds (LAST_ROUNDS of its connections left, out or
 * queued): a URL prefetched there by one shard could wait a whole fetch for that shard's
 * connection while another shard's sits idle, so each URL goes to the first connection that
 * frees up.
 */
export function inLastRounds(queued: number, out: number, concurrency: number): boolean {
  return queued + out <= LAST_ROUNDS * concurrency;
}

/**
 * How many URLs a run asking for `want` gets: one round for its connections plus its share of
 * the queued URLs (its slots over the job's concurrency), less what it holds, so near the end
 * of a job no run sits on several rounds while another's connections idle. With `freeOnly`
 * (per-host limits, the last rounds) it gets no more than its free connections.
 */
export function fairWant(
  run: RunLoad,
  want: number,
  queued: number,
  concurrency: number,
  freeOnly: boolean,
): number {
  if (want <= 0) return 0;
  const share = run.slots + Math.ceil((run.slots * queued) / concurrency);
  const cap = freeOnly ? run.slots : share;
  return Math.max(0, Math.min(want, cap - run.held));
}

/**
 * The URLs a run gets with its start: an even split of what is queued over the connections it
 * needs (all of the job's at most), within the prefetch.
 */
export function firstBatch(slots: number, queued: number, concurrency: number): number {
  const over = Math.max(1, Math.min(concurrency, queued));
  return Math.min(slots * PREFETCH_FACTOR, Math.ceil((slots * queued) / over));
}

/**
 * Which idle runs to start, in order: enough that every queued URL has a connection, up to
 * the job's concurrency (all its runs).
 */
export function runsToStart(
  runs: ReadonlyArray<{ slots: number; running: boolean }>,
  queued: number,
): number[] {
  let connections = 0;
  for (const r of runs) if (r.running) connections += r.slots;
  const out: number[] = [];
  runs.forEach((r, idx) => {
    if (r.running || connections >= queued) return;
    connections += r.slots;
    out.push(idx);
  });
  return out;
}

/** What becomes of a URL after one reported attempt. */
type Decision =
  /** The shard dropped it without being told to (its run ended): hand it out again. */
  | { action: 'requeue' }
  /** A transient failure with attempts left: try again at `dueAt`. */
  | { action: 'retry'; dueAt: number }
  /** Its Result is this attempt. */
  | { action: 'settle' };

/**
 * The retry decision. `attempts` counts this attempt; a retry waits the backoff, never less
 * than the server's Retry-After, and never before its host opens again (`hostOpensAt`).
 */
export function decide(
  out: PageOutcome,
  attempts: number,
  spec: Pick<JobSpec, 'retry'>,
  hostOpensAt: number,
  now: number,
  random: () => number = Math.random,
): Decision {
  if (out.ok) return { action: 'settle' };
  if (out.kind === 'cancelled') return { action: 'requeue' };
  if (isRetryable(out) && attempts < spec.retry.maxAttempts) {
    const retryAfterMs = parseRetryAfter(out.retryAfter, now);
    const delay =
      retryAfterMs === null
        ? backoffDelayMs(attempts, spec.retry, random)
        : nextRetryDelayMs(attempts, spec.retry, retryAfterMs, random);
    return { action: 'retry', dueAt: Math.max(now + delay, hostOpensAt) };
  }
  return { action: 'settle' };
}

/**
 * The failed Results a job tolerates (more ends it `failed`), or null for no limit: failFast is
 * 0; "N%" is N% of its URLs (`total`, duplicates dropped), a fraction kept as is.
 */
export function failureLimit(
  spec: Pick<JobSpec, 'mode' | 'maxFailures'>,
  total: number,
): number | null {
  if (spec.mode === 'failFast') return 0;
  const m = spec.maxFailures;
  if (m === null || m === undefined) return null;
  return typeof m === 'number' ? m : (Number.parseFloat(m) / 100) * total;
}
