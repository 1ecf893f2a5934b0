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
 * SQL that settles every unsettled URL at once with the same error, in submission order. It
 * builds the same JSON shape as resultWithoutFetch, inside SQLite, so 100,000 URLs cost no JS.
 * Parameters: kind, message.
 */
export const SETTLE_REST_SQL = `
  INSERT OR IGNORE INTO results (idx, ok, kind, duration_ms, bytes, body)
  SELECT idx, 0, ?1, 0, 0, json_object(
    'url', url, 'finalUrl', NULL, 'ok', json('false'), 'status', NULL, 'contentType', NULL,
    'title', NULL, 'links', 0, 'bytes', 0, 'attempts', attempts, 'durationMs', 0,
    'fetchedAt', NULL, 'data', NULL, 'error', json_object('kind', ?1, 'message', ?2))
  FROM urls WHERE state != 3 ORDER BY idx`;
