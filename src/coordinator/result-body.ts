import type { PageOutcome } from '../fetch/fetch-page';
import type { ErrorKind, Result } from '../jobs/types';

/** The render and change-detection fields of a Result without a body. */
const NOTHING_TO_COMPARE = {
  rendered: false,
  renderMs: null,
  etag: null,
  lastModified: null,
  contentHash: null,
  notModified: false,
  changed: null,
} as const;

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
      linkUrls: o.linkUrls,
      meta: o.meta,
      rendered: o.rendered,
      renderMs: o.renderMs,
      etag: o.etag,
      lastModified: o.lastModified,
      contentHash: o.contentHash,
      notModified: o.notModified,
      changed: null,
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
    linkUrls: null,
    meta: null,
    ...NOTHING_TO_COMPARE,
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
    linkUrls: null,
    meta: null,
    ...NOTHING_TO_COMPARE,
    error: { kind, message },
  };
}
