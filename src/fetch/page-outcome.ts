// The outcome of one page fetch, built from how far the fetch got (see fetchPage).
import type { ErrorKind } from '../jobs/types';
import { BodyError, errorMessage } from './body-io';
import type { Extracted } from './extract';
import type { PageOutcome, PageRequest } from './fetch-page';

export type Failure = Extract<PageOutcome, { ok: false }>;
type Ok = Extract<PageOutcome, { ok: true }>;

/** How far one fetch got: what its outcome reports, whatever ends it. */
export interface Progress {
  readonly started: number;
  readonly fetchedAt: string;
  bytes: number;
  status: number | null;
  finalUrl: string | null;
  contentType: string | null;
  /** Lowercase hex SHA-256 of the body, once it was read whole; null until then. */
  hash: string | null;
}

/** A fetch's progress at its start. */
export function startProgress(started: number): Progress {
  return {
    started,
    fetchedAt: new Date(started).toISOString(),
    bytes: 0,
    status: null,
    finalUrl: null,
    contentType: null,
    hash: null,
  };
}

function reasonText(reason: unknown): string {
  if (reason === undefined) return 'aborted';
  return errorMessage(reason);
}

/** A failed outcome carrying how far the fetch got. */
export function failure(
  p: Progress,
  kind: ErrorKind,
  message: string,
  retryAfter: string | null = null,
): Failure {
  return {
    ok: false,
    kind,
    message,
    status: p.status,
    finalUrl: p.finalUrl,
    contentType: p.contentType,
    bytes: p.bytes,
    durationMs: Date.now() - p.started,
    fetchedAt: p.fetchedAt,
    retryAfter,
  };
}

/** The failure an exception (or abort) that ended the fetch stands for. */
export function failureFromError(
  err: unknown,
  req: PageRequest,
  timedOut: boolean,
  p: Progress,
): Failure {
  if (err instanceof BodyError) return failure(p, err.kind, err.message);
  if (req.signal?.aborted) {
    return failure(p, 'cancelled', `cancelled: ${reasonText(req.signal.reason)}`);
  }
  if (timedOut) return failure(p, 'timeout', `timed out after ${req.timeoutMs} ms`);
  const message = errorMessage(err);
  if (message.startsWith('Parser error')) return failure(p, 'invalid_content', message);
  if (message.startsWith('internal error')) {
    // workerd's opaque text for a failed DNS lookup or connection (the detail is in its log).
    const host = p.finalUrl === null ? req.url : new URL(p.finalUrl).host;
    return failure(
      p,
      'network',
      `could not reach ${host} (DNS lookup or connect failed: ${message})`,
    );
  }
  return failure(p, 'network', message);
}

/**
 * An ok outcome's parsed fields, from what was extracted (null: not parsed): what was asked
 * for and not parsed comes out empty or null.
 */
export function extractedFields(
  extracted: Extracted | null,
  req: Pick<PageRequest, 'selectors' | 'links' | 'meta'>,
): Pick<Ok, 'title' | 'links' | 'data' | 'linkUrls' | 'meta' | 'scriptBuilt'> {
  const names = Object.keys(req.selectors);
  return {
    title: extracted?.title ?? null,
    links: extracted?.links ?? 0,
    data:
      extracted?.data ??
      (names.length === 0 ? null : Object.fromEntries(names.map((n) => [n, null]))),
    linkUrls: req.links === true ? (extracted?.linkUrls ?? []) : null,
    meta:
      req.meta === true
        ? (extracted?.meta ?? { description: null, canonical: null, ogTitle: null, lang: null })
        : null,
    ...(extracted?.scriptBuilt === undefined ? {} : { scriptBuilt: extracted.scriptBuilt }),
  };
}

/**
 * The successful outcome; what was asked for and not parsed comes out empty or null. A
 * `notModified` outcome (a 304 to a conditional request) has no body: nothing parsed, no hash.
 */
export function success(
  res: Response,
  finalUrl: string,
  extracted: Extracted | null,
  req: PageRequest,
  p: Progress,
  notModified = false,
): PageOutcome {
  return {
    ok: true,
    finalUrl,
    status: res.status,
    contentType: p.contentType,
    ...extractedFields(extracted, req),
    bytes: p.bytes,
    etag: res.headers.get('etag'),
    lastModified: res.headers.get('last-modified'),
    contentHash: p.hash === null ? null : `sha256:${p.hash}`,
    notModified,
    rendered: false,
    renderMs: null,
    durationMs: Date.now() - p.started,
    fetchedAt: p.fetchedAt,
  };
}
