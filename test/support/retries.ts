// Helpers of the retry tests (test/worker and test/durable-objects).
import { origin } from './api';

/** A retry policy fast enough for tests. */
export const fastRetry = { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 50 };

/** How many requests for `key` (under tag `t`) the origin has seen. */
export async function attemptsSeen(t: string, key: string): Promise<number> {
  const res = await fetch(origin(`/attempts?tag=${t}&key=${key}`));
  return ((await res.json()) as { count: number }).count;
}
