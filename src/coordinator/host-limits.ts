/**
 * The per-host politeness math, AutoThrottle-style: a 429 or 503 halves a host's limit of
 * URLs out at once and may hold the host back (Retry-After); each success raises a lowered
 * limit by 1/limit, so about one slot per `limit` successes.
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

/** Whether one more URL of a host may be handed out now. */
export function hostCanTake(
  host: { limit: number; inUse: number; blockedUntil: number },
  concurrency: number,
  now: number,
): boolean {
  return host.blockedUntil <= now && host.inUse < hostCap(host.limit, concurrency);
}
