import { MAX_CRAWL_DELAY_MS } from '../lib/robots';

/**
 * The per-host politeness math, AutoThrottle-style: a 429 or 503 halves a host's limit of
 * URLs out at once and may hold the host back (Retry-After); each success raises a lowered
 * limit by 1/limit, so about one slot per `limit` successes. A paced host (perHostDelayMs,
 * Crawl-delay) has its request starts scheduled one delay apart when its URLs are handed out.
 */

/** A host's limit never drops below one URL at a time. */
const MIN_HOST_LIMIT = 1;

/** The limit after a throttle signal: half of what it was (never above the job's maximum). */
export function throttledLimit(limit: number, maxLimit: number): number {
  return Math.max(MIN_HOST_LIMIT, Math.min(limit, maxLimit) / 2);
}

/** The limit after a success: additive increase up to the job's maximum. */
export function recoveredLimit(limit: number, maxLimit: number): number {
  if (limit >= maxLimit) return limit;
  return Math.min(maxLimit, limit + 1 / limit);
}

/** Until when a host is held back after a Retry-After of `retryAfterMs` (null: not given). */
export function heldUntil(current: number, retryAfterMs: number | null, now: number): number {
  if (retryAfterMs === null || retryAfterMs <= 0) return current;
  return Math.max(current, now + retryAfterMs);
}

/**
 * How many of a host's URLs may be out at once. A limit at or above the job's concurrency can
 * never bind, so it is not applied: shards may then prefetch work for that host.
 */
export function hostCap(limit: number, concurrency: number): number {
  return limit >= concurrency ? Number.POSITIVE_INFINITY : Math.floor(limit);
}

/**
 * A host's pacing: the least ms between two request starts, and the latest time (epoch ms) the
 * last start scheduled for it may happen (see startedBy).
 */
interface Paced {
  delayMs?: number;
  lastStartBy?: number;
}

/**
 * How late a shard may start a URL after its scheduled start. One that may start at once first
 * travels to its shard (in a reply, or with a run's start: a Durable Object may have to start);
 * one that waits for its start is started by a timer, late by the shard's timer and dispatch
 * jitter (the event loop is shared). The margins cover what was measured (bench/README.md).
 */
export const AT_ONCE_SLACK_MS = 200;
export const TIMED_SLACK_MS = 50;

/**
 * A host's least time between two request starts: the job's `perHostDelayMs`, raised by its
 * robots.txt `Crawl-delay` (already capped by the parser; capped again for stored rules).
 */
export function hostDelay(jobDelayMs: number, crawlDelayMs: number | undefined): number {
  return Math.max(jobDelayMs, Math.min(crawlDelayMs ?? 0, MAX_CRAWL_DELAY_MS));
}

/**
 * How long before its start a paced host's URL may be handed out: one delay, so that a host
 * has at most one URL waiting for its start (it cannot fill a shard's connections with waiting
 * work), and never more than `horizonMs`, so a shard never sits on work for long.
 */
export function paceLookahead(delayMs: number, horizonMs: number): number {
  return Math.min(delayMs, horizonMs);
}

/** When the next request to a paced host may start: one delay after the last one may have. */
export function nextStart(host: Paced, now: number): number {
  return Math.max(now, (host.lastStartBy ?? 0) + (host.delayMs ?? 0));
}

/**
 * The latest time a request scheduled at `at` (handed out at `now`) may start. The host's next
 * start is counted from it, so that a late start never brings the next one within the delay.
 */
export function startedBy(at: number, now: number): number {
  return at + (at > now ? TIMED_SLACK_MS : AT_ONCE_SLACK_MS);
}

/**
 * After a restart at `resumedAt`, the latest time a start scheduled before it may happen: a
 * hand-out's start lies at most one lookahead after it.
 */
export function resumedStartBy(resumedAt: number, delayMs: number, horizonMs: number): number {
  const latest = resumedAt + paceLookahead(delayMs, horizonMs);
  return Math.max(startedBy(resumedAt, resumedAt), startedBy(latest, resumedAt));
}

/**
 * When a host held back by time may be handed a URL again: its Retry-After hold over, and its
 * next start within the lookahead.
 */
export function hostOpensAt(host: Paced & { blockedUntil: number }, horizonMs: number): number {
  const delay = host.delayMs ?? 0;
  if (delay <= 0) return host.blockedUntil;
  const paced = (host.lastStartBy ?? 0) + delay - paceLookahead(delay, horizonMs);
  return Math.max(host.blockedUntil, paced);
}

/** Whether one more URL of a host may be handed out now. */
export function hostCanTake(
  host: Paced & { limit: number; inUse: number; blockedUntil: number },
  concurrency: number,
  now: number,
  horizonMs = Number.POSITIVE_INFINITY,
): boolean {
  return hostOpensAt(host, horizonMs) <= now && host.inUse < hostCap(host.limit, concurrency);
}
