import type { WorkOutcome } from './protocol';

/** Outcomes one report carries at most. */
export const REPORT_MAX_ITEMS = 500;
/**
 * Characters of text one report carries at most (about twice that in bytes as the RPC copies
 * strings): far below the 32 MiB an RPC message may hold, even with every field at its cap.
 */
export const REPORT_MAX_CHARS = 4 * 1024 * 1024;

/** A fixed allowance for an outcome's numbers, kinds and field names. */
const BASE_CHARS = 512;

const len = (s: string | null | undefined): number => s?.length ?? 0;

/** An upper estimate of the text an outcome carries (its strings; numbers are in BASE_CHARS). */
export function outcomeChars(o: WorkOutcome): number {
  if (o.type === 'robots') {
    const rules = o.rules;
    return BASE_CHARS + [...rules.allow, ...rules.disallow].reduce((n, r) => n + r.length, 0);
  }
  const p = o.outcome;
  let n = BASE_CHARS + len(p.finalUrl) + len(p.contentType);
  if (!p.ok) return n + len(p.message) + len(p.retryAfter);
  n += len(p.title);
  for (const v of Object.values(p.data ?? {})) n += len(v) + 32;
  for (const u of p.linkUrls ?? []) n += u.length + 4;
  if (p.meta) n += len(p.meta.description) + len(p.meta.canonical) + len(p.meta.ogTitle);
  return n;
}

/**
 * Takes the next report's outcomes off the front of `outbox`: at most REPORT_MAX_ITEMS and
 * REPORT_MAX_CHARS of text, and always the first one (one outcome is bounded by its own caps).
 */
export function takeReport(
  outbox: WorkOutcome[],
  maxItems = REPORT_MAX_ITEMS,
  maxChars = REPORT_MAX_CHARS,
): WorkOutcome[] {
  let chars = 0;
  let count = 0;
  while (count < outbox.length && count < maxItems) {
    const next = outcomeChars(outbox[count] as WorkOutcome);
    if (count > 0 && chars + next > maxChars) break;
    chars += next;
    count++;
  }
  return outbox.splice(0, count);
}
