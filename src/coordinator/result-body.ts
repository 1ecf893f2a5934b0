import type { PageOutcome } from '../fetch/fetch-page';
import type { ErrorKind, Result } from '../jobs/types';

/** The stored Result of one URL, built from its final attempt. */
export function resultFromOutcome(url: string, attempts: number, o: PageOutcome): Result {
  if (o.ok) {
    return {
      url,
      finalUrl: o.finalUrl,
      ok: true,
      status: o.status,
      contentType: o.contentType,
      title: o.title,
      links: o.links,
      bytes: o.bytes,
      attempts,
      durationMs: o.durationMs,
      fetchedAt: o.fetchedAt,
      data: o.data,
      error: null,
    };
  }
  return {
    url,
    finalUrl: o.finalUrl,
    ok: false,
    status: o.status,
    contentType: o.contentType,
    title: null,
    links: 0,
    bytes: o.bytes,
    attempts,
    durationMs: o.durationMs,
    fetchedAt: o.fetchedAt,
    data: null,
    error: { kind: o.kind, message: o.message },
  };
}

/** The Result of a URL settled without a fetch of its own (robots, cancel, deadline). */
export function resultWithoutFetch(
  url: string,
  attempts: number,
  kind: ErrorKind,
  message: string,
): Result {
  return {
    url,
    finalUrl: null,
    ok: false,
    status: null,
    contentType: null,
    title: null,
    links: 0,
    bytes: 0,
    attempts,
    durationMs: 0,
    fetchedAt: null,
    data: null,
    error: { kind, message },
  };
}

/**
 * Plans the next chunk of a terminating job's settle: of the first `rows` unsettled URLs after
 * idx `after`, how many are in each state and the last idx. Rows are read in idx order by
 * primary key, from the cursor on, so a chunk never rescans what earlier chunks settled.
 * Parameters: after, rows.
 */
export const SETTLE_CHUNK_PLAN_SQL = `
  SELECT state, count(*) AS n, max(idx) AS last FROM (
    SELECT idx, state FROM urls WHERE idx > ?1 AND state != 3 ORDER BY idx LIMIT ?2)
  GROUP BY state`;

/**
 * Settles the unsettled URLs with idx in (after, last] with the same error, in submission
 * order. It builds the same JSON shape as resultWithoutFetch, inside SQLite, so a chunk of
 * thousands of URLs costs no JS. Parameters: kind, message, after, last.
 */
export const SETTLE_RANGE_SQL = `
  INSERT OR IGNORE INTO results (idx, ok, kind, duration_ms, bytes, body)
  SELECT idx, 0, ?1, 0, 0, json_object(
    'url', url, 'finalUrl', NULL, 'ok', json('false'), 'status', NULL, 'contentType', NULL,
    'title', NULL, 'links', 0, 'bytes', 0, 'attempts', attempts, 'durationMs', 0,
    'fetchedAt', NULL, 'data', NULL, 'error', json_object('kind', ?1, 'message', ?2))
  FROM urls WHERE idx > ?3 AND idx <= ?4 AND state != 3 ORDER BY idx`;
