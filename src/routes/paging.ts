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

/** Where a newest-first list (jobs, schedules) stands: the last item a page held. */
interface ListPosition {
  createdAt: number;
  id: string;
}

/**
 * The `nextCursor` of a newest-first list page: base64 of `createdAt.id` of its last item, or
 * null when the page was not full (nothing older is left).
 */
export function nextListCursor(
  last: ListPosition | undefined,
  count: number,
  limit: number,
): string | null {
  return last && count === limit ? btoa(`${last.createdAt}.${last.id}`) : null;
}

/**
 * The position a `nextListCursor` cursor names; null when there is none (the first page). `id`
 * is the pattern of this list's ids: a cursor that does not fit it is refused as forged.
 */
export function readListCursor(raw: string | undefined, id: RegExp): ListPosition | null {
  if (!raw) return null;
  const m = readCursor(raw, new RegExp(`^(\\d{1,15})\\.(${id.source})$`));
  return { createdAt: Number(m[1]), id: m[2] ?? '' };
}
