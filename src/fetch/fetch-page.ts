import type { ErrorKind, PageMeta } from '../jobs/types';
import { createExtractor, type Extracted } from './extract';
import { BodyError, cancelQuietly, errorMessage, readBody } from './read-body';
import { REDIRECT_STATUSES } from './redirect';
import { userAgent } from './user-agent';

/** Redirect hops followed at most; one more ends the fetch as redirect_loop. */
export const MAX_REDIRECTS = 10;

const ACCEPT = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';

/**
 * Request headers of every hop of a page fetch, built once per run (fetch copies them): the
 * User-Agent, Accept, and a job's own headers (names lowercased; they may replace Accept).
 */
export function pageHeaders(
  agent: string = userAgent(),
  extra: Readonly<Record<string, string>> = {},
): Readonly<Record<string, string>> {
  const own = Object.entries(extra).map(([name, value]) => [name.toLowerCase(), value]);
  return { accept: ACCEPT, ...Object.fromEntries(own), 'user-agent': agent };
}

const DEFAULT_HEADERS = pageHeaders();

/** Request headers that carry credentials: not sent across origins on a redirect. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

function withoutCredentials(h: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(h).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())),
  );
}

export interface PageRequest {
  /** Absolute http(s) URL to fetch. */
  url: string;
  /** Per attempt: connect + all redirect hops + whole body. */
  timeoutMs: number;
  /** Body bytes beyond this -> kind too_large (reading stops, the body is cancelled). */
  maxBytes: number;
  /** name -> CSS selector; data[name] = text of the first match, or null. */
  selectors: Record<string, string>;
  /** Collect the page's link URLs (`linkUrls`); false when absent. */
  links?: boolean;
  /** Collect the page's metadata (`meta`); false when absent. */
  meta?: boolean;
  /** Job-level abort (cancel, deadline): abort -> kind 'cancelled' (the caller may relabel). */
  signal?: AbortSignal;
  /** SSRF guard applied to the first URL and every redirect target -> kind blocked_target. */
  isBlocked?: (url: URL) => boolean;
  /** The request headers (pageHeaders); the default User-Agent without a contact otherwise. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Called when the body has been received whole and is about to be parsed, where those two
   * are apart (a small HTML body read in one call): the connection is done with, so a caller
   * counting connections may start the next one while this page is parsed.
   */
  onBodyRead?: () => void;
}

export type PageOutcome =
  | {
      ok: true;
      finalUrl: string;
      status: number;
      contentType: string | null;
      title: string | null;
      links: number;
      bytes: number;
      data: Record<string, string | null> | null;
      /** As asked by `links`: null when not asked, [] for a body not parsed. */
      linkUrls: string[] | null;
      /** As asked by `meta`: null when not asked, all fields null for a body not parsed. */
      meta: PageMeta | null;
      durationMs: number;
      fetchedAt: string;
    }
  | {
      ok: false;
      kind: ErrorKind;
      message: string;
      status: number | null;
      finalUrl: string | null;
      contentType: string | null;
      bytes: number;
      durationMs: number;
      fetchedAt: string;
      retryAfter: string | null;
    };

type Failure = Extract<PageOutcome, { ok: false }>;

/** How far one fetch got: what its outcome reports, whatever ends it. */
interface Progress {
  readonly started: number;
  readonly fetchedAt: string;
  bytes: number;
  status: number | null;
  finalUrl: string | null;
  contentType: string | null;
}

/** The media type of a Content-Type value, lower-cased, without parameters. */
function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

/** Whether a body is parsed as HTML; a missing Content-Type counts as HTML. */
function isHtmlContentType(contentType: string | null): boolean {
  const type = mediaType(contentType);
  return type === '' || type === 'text/html' || type === 'application/xhtml+xml';
}

function withoutHash(url: URL): string {
  return url.hash === '' ? url.href : url.href.slice(0, -url.hash.length);
}

function reasonText(reason: unknown): string {
  if (reason === undefined) return 'aborted';
  return errorMessage(reason);
}

/** A failed outcome carrying how far the fetch got. */
function failure(
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
function failureFromError(err: unknown, req: PageRequest, timedOut: boolean, p: Progress): Failure {
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

/** `url` parsed, or null when it is no valid URL. */
function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** Why `url` may not be fetched (not http(s), or refused by the SSRF guard), or null. */
function refusedTarget(url: URL, req: PageRequest): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `not an http(s) URL: ${url.href}`;
  }
  if (req.isBlocked?.(url)) return `blocked target: ${url.href}`;
  return null;
}

/** Where a redirect from `from` (hop number `hops`) leads, or why it is not followed. */
function redirectTarget(
  location: string,
  from: URL,
  seen: Set<string>,
  hops: number,
  p: Progress,
): URL | Failure {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    return failure(p, 'network', `invalid redirect Location: ${location}`);
  }
  if (seen.has(withoutHash(next))) {
    return failure(p, 'redirect_loop', `redirect loop: ${next.href} was already visited`);
  }
  if (hops >= MAX_REDIRECTS) {
    return failure(p, 'redirect_loop', `more than ${MAX_REDIRECTS} redirects`);
  }
  return next;
}

/** The body length a response declares, when it is the number of bytes to be read; else NaN. */
function declaredLength(res: Response): number {
  // Content-Length counts the encoded bytes; workerd hands over the decoded body, so only
  // an identity-encoded length says how many bytes will be read.
  const encoding = res.headers.get('content-encoding');
  return encoding === null || encoding.trim().toLowerCase() === 'identity'
    ? Number(res.headers.get('content-length') ?? Number.NaN)
    : Number.NaN;
}

/**
 * The length a final response declares for its body (NaN: unknown), or, when the body is not
 * to be read (not 2xx, or declared too large), the failure; such a body is cancelled.
 */
function readableLength(res: Response, req: PageRequest, p: Progress): number | Failure {
  if (res.status < 200 || res.status > 299) {
    cancelQuietly(res.body);
    return failure(p, 'http_status', `HTTP ${res.status}`, res.headers.get('retry-after'));
  }
  const declared = declaredLength(res);
  if (declared > req.maxBytes) {
    cancelQuietly(res.body);
    return failure(p, 'too_large', `Content-Length ${declared} exceeds maxBytes (${req.maxBytes})`);
  }
  return declared;
}

/** The successful outcome; what was asked for and not parsed comes out empty or null. */
function success(
  res: Response,
  finalUrl: string,
  extracted: Extracted | null,
  req: PageRequest,
  p: Progress,
): PageOutcome {
  const names = Object.keys(req.selectors);
  return {
    ok: true,
    finalUrl,
    status: res.status,
    contentType: p.contentType,
    title: extracted?.title ?? null,
    links: extracted?.links ?? 0,
    bytes: p.bytes,
    data:
      extracted?.data ??
      (names.length === 0 ? null : Object.fromEntries(names.map((n) => [n, null]))),
    linkUrls: req.links === true ? (extracted?.linkUrls ?? []) : null,
    meta:
      req.meta === true
        ? (extracted?.meta ?? { description: null, canonical: null, ogTitle: null, lang: null })
        : null,
    durationMs: Date.now() - p.started,
    fetchedAt: p.fetchedAt,
  };
}

/** Fetches one page under its own timeout, following redirects, and extracts from it. */
export async function fetchPage(req: PageRequest): Promise<PageOutcome> {
  const started = Date.now();
  const progress: Progress = {
    started,
    fetchedAt: new Date(started).toISOString(),
    bytes: 0,
    status: null,
    finalUrl: null,
    contentType: null,
  };
  // Not AbortSignal.timeout/any: those timers stay armed after the fetch is done, and workerd
  // allows 10,000 active timeouts per invocation. One controller, one cleared timer and one
  // removed listener per call keep nothing behind.
  const controller = new AbortController();
  const signal = controller.signal;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`timed out after ${req.timeoutMs} ms`, 'TimeoutError'));
  }, req.timeoutMs);
  const onJobAbort = (): void => controller.abort(req.signal?.reason);
  if (req.signal?.aborted) onJobAbort();
  else req.signal?.addEventListener('abort', onJobAbort, { once: true });

  try {
    let url = parseUrl(req.url);
    if (url === null) return failure(progress, 'network', `invalid URL: ${req.url}`);
    const seen = new Set<string>();
    const firstOrigin = url.origin;
    let res: Response;
    for (let hops = 0; ; hops++) {
      const refused = refusedTarget(url, req);
      if (refused !== null) return failure(progress, 'blocked_target', refused);
      seen.add(withoutHash(url));
      progress.finalUrl = url.href;
      const given = req.headers ?? DEFAULT_HEADERS;
      // As fetch does: credentials a job sends go to its own URL's origin, never to another
      // origin a redirect leads to.
      const headers = url.origin === firstOrigin ? given : withoutCredentials(given);
      res = await fetch(url.href, { redirect: 'manual', signal, headers });
      progress.status = res.status;
      progress.contentType = res.headers.get('content-type');
      const location = REDIRECT_STATUSES.has(res.status) ? res.headers.get('location') : null;
      if (location === null) break;
      cancelQuietly(res.body);
      const next = redirectTarget(location, url, seen, hops, progress);
      if (!(next instanceof URL)) return next;
      url = next;
    }

    const declared = readableLength(res, req, progress);
    if (typeof declared !== 'number') return declared;
    // Built only where a rewriter is needed: most small pages are read by scanHtml alone.
    const extras = { url: url.href, links: req.links === true, meta: req.meta === true };
    const makeExtractor = isHtmlContentType(progress.contentType)
      ? () => createExtractor(req.selectors, extras)
      : null;
    const length = Number.isSafeInteger(declared) && declared >= 0 ? declared : null;
    const extracted = await readBody(res, length, req, signal, makeExtractor, progress);
    return success(res, url.href, extracted, req, progress);
  } catch (err) {
    return failureFromError(err, req, timedOut, progress);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onJobAbort);
  }
}
