import type { ErrorKind, PageMeta } from '../jobs/types';
import type { ScriptBuilt } from '../render/signals';
import { cancelQuietly, sinkStep, storeError } from './body-io';
import type { BodySink, OpenBodySink } from './body-sink';
import { createExtractor } from './extract';
import {
  type Failure,
  failure,
  failureFromError,
  type Progress,
  startProgress,
  success,
} from './page-outcome';
import { type BodyRequest, readBody } from './read-body';
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
  /**
   * Judge whether the page looks built by its scripts (`render: "auto"`): the ok outcome of an
   * HTML body then carries `scriptBuilt`. False when absent.
   */
  signals?: boolean;
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
  /**
   * Validators of the previous run's final response, sent as If-None-Match and
   * If-Modified-Since on every hop: a 304 to such a request is a success (`notModified`).
   */
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  /**
   * Opens where a 2xx HTML body goes besides the parser (see BodySink): every chunk as it is
   * read, then close with the body's hash, or abort when it was not read whole. A sink that
   * fails makes the page a network failure.
   */
  openSink?: OpenBodySink;
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
      /** The final response's ETag and Last-Modified headers as sent, or null. */
      etag: string | null;
      lastModified: string | null;
      /**
       * `sha256:` and the lowercase hex SHA-256 of the body as received after content decoding,
       * when it was read whole; null for a 304.
       */
      contentHash: string | null;
      /** A 304 to a conditional request: no body, nothing parsed. */
      notModified: boolean;
      /** The page was rendered in a browser: what was extracted comes from its DOM. */
      rendered: boolean;
      /** The render's time; null when not rendered. */
      renderMs: number | null;
      /**
       * With `signals`, for an HTML body parsed: why it looks script-built, or null. For the
       * shard only: not a Result field.
       */
      scriptBuilt?: ScriptBuilt;
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

/** Whether `req` carries validators (If-None-Match, If-Modified-Since). */
function isConditional(req: PageRequest): boolean {
  return req.ifNoneMatch !== undefined || req.ifModifiedSince !== undefined;
}

/** The request headers of every hop: the job's, and the validators of a conditional request. */
function requestHeaders(req: PageRequest): Readonly<Record<string, string>> {
  const given = req.headers ?? DEFAULT_HEADERS;
  if (!isConditional(req)) return given;
  const validators: Record<string, string> = {};
  if (req.ifNoneMatch !== undefined) validators['if-none-match'] = req.ifNoneMatch;
  if (req.ifModifiedSince !== undefined) validators['if-modified-since'] = req.ifModifiedSince;
  return { ...given, ...validators };
}

/** The response a redirect chain from `req.url` ends with, and its URL; or the failure. */
async function finalResponse(
  req: PageRequest,
  signal: AbortSignal,
  progress: Progress,
): Promise<{ res: Response; url: URL } | Failure> {
  let url = parseUrl(req.url);
  if (url === null) return failure(progress, 'network', `invalid URL: ${req.url}`);
  const seen = new Set<string>();
  const firstOrigin = url.origin;
  const given = requestHeaders(req);
  for (let hops = 0; ; hops++) {
    const refused = refusedTarget(url, req);
    if (refused !== null) return failure(progress, 'blocked_target', refused);
    seen.add(withoutHash(url));
    progress.finalUrl = url.href;
    // As fetch does: credentials a job sends go to its own URL's origin, never to another
    // origin a redirect leads to.
    const headers = url.origin === firstOrigin ? given : withoutCredentials(given);
    const res = await fetch(url.href, { redirect: 'manual', signal, headers });
    progress.status = res.status;
    progress.contentType = res.headers.get('content-type');
    const location = REDIRECT_STATUSES.has(res.status) ? res.headers.get('location') : null;
    if (location === null) return { res, url };
    cancelQuietly(res.body);
    const next = redirectTarget(location, url, seen, hops, progress);
    if (!(next instanceof URL)) return next;
    url = next;
  }
}

/**
 * What builds the extractor of a page at `url` as `req` asks: the one extraction of fetched
 * and rendered pages alike. Called only where a rewriter is needed: most small pages are read
 * by scanHtml alone.
 */
export function pageExtractor(
  req: BodyRequest,
  url: string,
): () => ReturnType<typeof createExtractor> {
  const extras = {
    url,
    links: req.links === true,
    meta: req.meta === true,
    signals: req.signals === true,
  };
  return () => createExtractor(req.selectors, extras);
}

/** The sink `open` gives for a body of `contentType`; a throw is a failure to store it. */
function openSink(open: OpenBodySink, contentType: string | null, res: Response): BodySink | null {
  try {
    return open(contentType);
  } catch (err) {
    cancelQuietly(res.body);
    throw storeError(err);
  }
}

/**
 * What `read` resolves to, the body it reads going to `sink` as well: closed with the body's
 * hash once it was read whole and parsed, else aborted (exactly one of the two, once).
 */
export async function readIntoSink<T>(
  sink: BodySink,
  read: () => Promise<T>,
  signal: AbortSignal,
  progress: Pick<Progress, 'hash'>,
): Promise<T> {
  let value: T;
  try {
    value = await read();
  } catch (err) {
    await sink.abort(err);
    throw err;
  }
  const hash = progress.hash;
  // readBody sets the hash whenever it resolves.
  if (hash === null) throw new Error('a body read whole has no hash');
  await sinkStep(() => sink.close(hash), signal);
  return value;
}

/** The outcome of the final response: its body read (and stored) and extracted, when due. */
async function readFinal(
  res: Response,
  url: URL,
  req: PageRequest,
  signal: AbortSignal,
  progress: Progress,
): Promise<PageOutcome> {
  if (res.status === 304 && isConditional(req)) {
    cancelQuietly(res.body);
    return success(res, url.href, null, req, progress, true);
  }
  const declared = readableLength(res, req, progress);
  if (typeof declared !== 'number') return declared;
  const html = isHtmlContentType(progress.contentType);
  const makeExtractor = html ? pageExtractor(req, url.href) : null;
  const length = Number.isSafeInteger(declared) && declared >= 0 ? declared : null;
  const sink =
    html && req.openSink !== undefined ? openSink(req.openSink, progress.contentType, res) : null;
  const extracted =
    sink === null
      ? await readBody(res, length, req, signal, makeExtractor, progress)
      : await readIntoSink(
          sink,
          () => readBody(res, length, req, signal, makeExtractor, progress, sink),
          signal,
          progress,
        );
  return success(res, url.href, extracted, req, progress);
}

/** Fetches one page under its own timeout, following redirects, and extracts from it. */
export async function fetchPage(req: PageRequest): Promise<PageOutcome> {
  const progress = startProgress(Date.now());
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
    const final = await finalResponse(req, signal, progress);
    if ('ok' in final) return final;
    return await readFinal(final.res, final.url, req, signal, progress);
  } catch (err) {
    return failureFromError(err, req, timedOut, progress);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onJobAbort);
  }
}
