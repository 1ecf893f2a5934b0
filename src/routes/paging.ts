import { ApiError } from '../middleware/errors';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Lists of jobs and schedules: each item costs a Durable Object call, so pages are smaller. */
export const LIST_DEFAULT_LIMIT = 20;
export const LIST_MAX_LIMIT = 100;

/** The `limit` query parameter of a paginated list: an integer 1..max, `fallback` if absent. */
export function parseLimit(
  raw: string | undefined,
  max: number = MAX_LIMIT,
  fallback: number = DEFAULT_LIMIT,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ApiError('invalid_request', `limit: expected an integer 1..${max}`);
  }
  return n;
}

/**
 * Reads an opaque cursor: base64 of a text `pattern` matches. Returns the match, or throws the
 * 400 envelope for anything else (not base64, or not a cursor of this list).
 */
export function readCursor(raw: string, pattern: RegExp): RegExpExecArray {
  let text = '';
  try {
    text = atob(raw);
  } catch {
    // not base64: refused below
  }
  const m = pattern.exec(text);
  if (!m) throw new ApiError('invalid_request', 'cursor: not a cursor from this API');
  return m;
}
