import type { KeyView } from './types';

/**
 * How long an isolate trusts what it learnt about a token. A key deleted through another
 * isolate is refused here within this; one deleted through this isolate at once (`forgetKey`).
 */
const TTL_MS = 1_000;
/** Tokens remembered at most: a flood of made-up tokens cannot grow the cache. */
const MAX_ENTRIES = 1_000;

interface Entry {
  key: KeyView | null;
  at: number;
}

/** Per-isolate memory of token lookups (by token hash), so a check costs at most one RPC. */
const entries = new Map<string, Entry>();

/** The key a token hash names, from memory if learnt under TTL_MS ago, else from `lookup`. */
export async function keyForToken(
  tokenHash: string,
  lookup: (tokenHash: string) => Promise<KeyView | null>,
  now: number = Date.now(),
): Promise<KeyView | null> {
  const hit = entries.get(tokenHash);
  if (hit && now - hit.at < TTL_MS) return hit.key;
  const key = await lookup(tokenHash);
  entries.delete(tokenHash);
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
  entries.set(tokenHash, { key, at: now });
  return key;
}

/** Drops what this isolate remembers of a key (it was just deleted). */
export function forgetKey(id: string): void {
  for (const [hash, entry] of entries) {
    if (entry.key?.id === id) entries.delete(hash);
  }
}
