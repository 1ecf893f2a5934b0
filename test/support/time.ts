/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A value that passes an `if`. */
type Truthy<T> = Exclude<T, null | undefined | false | 0 | ''>;

/**
 * Polls `condition` (every `everyMs`) until it gives a truthy value, and resolves to that
 * value; rejects naming `what` if it has not within `timeoutMs`. Tests wait for an event this
 * way instead of sleeping for a time they hope is long enough.
 */
export async function until<T>(
  condition: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'the condition',
  everyMs = 20,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
