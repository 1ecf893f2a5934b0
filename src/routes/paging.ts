import { ApiError } from '../middleware/errors';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** The `limit` query parameter of a paginated list: an integer 1..MAX_LIMIT. */
export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new ApiError('invalid_request', `limit: expected an integer 1..${MAX_LIMIT}`);
  }
  return n;
}
