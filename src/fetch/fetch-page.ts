import type { ErrorKind } from '../jobs/types';
import { createExtractor, type Extracted, scanHtml } from './extract';

export const MAX_REDIRECTS = 10;

/** How many body bytes are examined for a `<meta charset>` (the HTML prescan limit). */
const SNIFF_BYTES = 1024;
/** Largest body whose (discarded) parser output may be drained in one native call. */
const BUFFER_LIMIT = 256 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'scrape-fanout/0.1 (+https://github.com/scrape-fanout)';
const ACCEPT = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';
/** Request headers of every hop, built once (fetch copies them). */
const REQUEST_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': USER_AGENT,
  accept: ACCEPT,
};

export interface PageRequest {
  /** Absolute http(s) URL to fetch. */
  url: string;
  /** Per attempt: connect + all redirect hops + whole body. */
  timeoutMs: number;
  /** Body bytes beyond this -> kind too_large (reading stops, the body is cancelled). */
  maxBytes: number;
  /** name -> CSS selector; data[name] = text of the first match, or null. */
  selectors: Record<string, string>;
  /** Job-level abort (cancel, deadline): abort -> kind 'cancelled' (the caller may relabel). */
  signal?: AbortSignal;
  /** SSRF guard applied to the first URL and every redirect target -> kind blocked_target. */
  isBlocked?: (url: URL) => boolean;
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

/** A body failure whose kind is known where it happened (too large, unparseable charset). */
class BodyError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

type Extractor = ReturnType<typeof createExtractor>;

/** The media type of a Content-Type value, lower-cased, without parameters. */
function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

/** Whether a body is parsed as HTML; a missing Content-Type counts as HTML. */
export function isHtmlContentType(contentType: string | null): boolean {
  const type = mediaType(contentType);
  return type === '' || type === 'text/html' || type === 'application/xhtml+xml';
}

/** The charset parameter of a Content-Type value, lower-cased, or null. */
export function charsetFromContentType(contentType: string | null): string | null {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(contentType ?? '');
  const label = (m?.[1] ?? m?.[2] ?? '').trim().toLowerCase();
  return label === '' ? null : label;
}

/** The charset a byte-order mark at the start of `head` declares, or null. */
export function charsetFromBom(head: Uint8Array): string | null {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  return null;
}

/** The charset a `<meta charset>` or `<meta http-equiv>` in the first 1024 bytes declares. */
export function charsetFromMeta(head: Uint8Array): string | null {
  // Bytes as latin1 chars: markup is ASCII in every encoding HTMLRewriter can parse.
  const n = Math.min(head.length, SNIFF_BYTES);
  let text = '';
  for (let i = 0; i < n; i++) text += String.fromCharCode(head[i] ?? 0);
  text = text.replace(/<!--[\s\S]*?(?:-->|$)/g, '');
  // One pattern for <meta charset=x> and <meta http-equiv=... content="...; charset=x">.
  const label = /<meta\s[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(text)?.[1]?.toLowerCase();
  if (!label) return null;
  // The HTML prescan rules: a <meta> cannot switch to UTF-16; x-user-defined means 1252.
  if (label.startsWith('utf-16')) return 'utf-8';
  if (label === 'x-user-defined') return 'windows-1252';
  return label;
}

/** Settles like `promise`, but rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function cancelQuietly(
  target: { cancel(reason?: unknown): Promise<void> } | null | undefined,
): void {
  void target?.cancel().catch(() => undefined);
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Feeds `res` to the extractor's rewriter; an encoding it cannot parse is invalid_content. */
function transformWith(extractor: Extractor, res: Response, charset: string): Response {
  try {
    return extractor.rewriter.transform(res);
  } catch (err) {
    // HTMLRewriter knows only ASCII-compatible encodings (no UTF-16, no ISO-2022-JP).
    cancelQuietly(res.body);
    const why = errorMessage(err).replace(/^Parser error: /, '');
    throw new BodyError('invalid_content', `cannot parse charset "${charset}": ${why}`);
  }
}

/**
 * Consumes and discards the rewriter's output; returns its length (= the input's length).
 * The output comes in many tiny chunks (one per handler call), and a JS read loop over them
 * measured about 2x the CPU of the whole parse in workerd, so output known to be small
 * (<= BUFFER_LIMIT) is drained natively by arrayBuffer() and dropped; larger or
 * unbounded output is read chunk by chunk, never held.
 */
async function drain(
  transformed: Response,
  signal: AbortSignal,
  buffered: boolean,
): Promise<number> {
  // No raceAbort here: `signal` also went to fetch, and its abort errors the body under the
  // rewriter, which rejects arrayBuffer() at once (the abort tests check it).
  if (buffered) return (await transformed.arrayBuffer()).byteLength;
  const out = transformed.body?.getReader();
  if (!out) return 0;
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await raceAbort(out.read(), signal);
      if (done) return bytes;
      bytes += value.byteLength;
    }
  } catch (err) {
    cancelQuietly(out);
    throw err;
  }
}

/** Whether `charset` (a lower-cased label) names UTF-8. */
function isUtf8(charset: string): boolean {
  return charset === 'utf-8' || charset === 'utf8' || charset === 'unicode-1-1-utf-8';
}

const UTF8 = new TextDecoder();

/**
 * The fast path of a small HTML body whose length is known: read whole (natively, one call),
 * then extracted by scanHtml when it can (UTF-8, no selectors, a page in its subset), else by
 * the extractor's HTMLRewriter in one chunk. Costs about a third of the streaming path at
 * 2 KB a page (scripts/perf), where every HTMLRewriter callback is a native -> JS round trip.
 */
async function readSmallHtml(
  res: Response,
  req: PageRequest,
  headerCharset: string | null,
  makeExtractor: () => Extractor,
  progress: { bytes: number },
): Promise<Extracted> {
  // `signal` went to fetch: its abort errors the body, which rejects arrayBuffer() at once.
  const buf = new Uint8Array(await res.arrayBuffer());
  req.onBodyRead?.();
  progress.bytes = buf.byteLength;
  if (progress.bytes > req.maxBytes) {
    throw new BodyError('too_large', `body exceeds maxBytes (${req.maxBytes})`);
  }
  const charset = charsetFromBom(buf) ?? headerCharset ?? charsetFromMeta(buf) ?? 'utf-8';
  if (isUtf8(charset) && Object.keys(req.selectors).length === 0) {
    // TextDecoder drops a UTF-8 byte-order mark, as the HTML parser does.
    const scanned = scanHtml(UTF8.decode(buf));
    if (scanned !== null) return scanned;
  }
  const source = new Response(buf, {
    headers: { 'content-type': `text/html; charset=${charset}` },
  });
  const extractor = makeExtractor();
  await transformWith(extractor, source, charset).arrayBuffer();
  return extractor.result();
}

/**
 * Reads the whole body, counting raw bytes into `progress` and enforcing maxBytes; HTML goes
 * through the extractor's HTMLRewriter and its output is discarded. Never buffers the body
 * (but one of at most BUFFER_LIMIT bytes, see readSmallHtml): only up to SNIFF_BYTES are held
 * back to look for a charset. Returns what was extracted (null for a body not parsed), throws
 * BodyError or the error (or abort reason) that ended the read.
 */
async function readBody(
  res: Response,
  declared: number | null,
  req: PageRequest,
  signal: AbortSignal,
  makeExtractor: (() => Extractor) | null,
  progress: { bytes: number },
): Promise<Extracted | null> {
  const body = res.body;
  if (body === null) return makeExtractor?.().result() ?? null;
  const contentType = res.headers.get('content-type');
  const headerCharset = charsetFromContentType(contentType);
  if (makeExtractor !== null && declared !== null && declared <= BUFFER_LIMIT) {
    return readSmallHtml(res, req, headerCharset, makeExtractor, progress);
  }
  const extractor = makeExtractor?.() ?? null;
  // Larger bodies: drain the rewriter's output natively when it is known to be small.
  const buffered = Math.min(declared ?? Number.POSITIVE_INFINITY, req.maxBytes) <= BUFFER_LIMIT;
  if (extractor !== null && headerCharset !== null && declared !== null) {
    // Fast path: the charset is known and the length is known to fit (checked by the caller),
    // so the body goes straight into the rewriter. Its output is the input, byte for byte.
    // An abort of `signal` (given to fetch) errors this body in workerd and closes the
    // connection, even while the rewriter holds it: checked against the origin's counters.
    // No byte-order-mark check here: the header's charset is taken as is.
    const transformed = transformWith(extractor, res, headerCharset);
    progress.bytes = await drain(transformed, signal, buffered);
    return extractor.result();
  }

  const raw = body.getReader();
  let tooLarge = false;
  const count = (chunk: Uint8Array): void => {
    progress.bytes += chunk.byteLength;
    if (progress.bytes > req.maxBytes) tooLarge = true;
  };
  const tooLargeError = (): BodyError =>
    new BodyError(
      'too_large',
      `body exceeds maxBytes (${req.maxBytes}): read ${progress.bytes} bytes`,
    );

  try {
    if (extractor === null) {
      for (;;) {
        const { done, value } = await raceAbort(raw.read(), signal);
        if (done) return null;
        count(value);
        if (tooLarge) throw tooLargeError();
      }
    }

    // Hold back the first bytes: for a byte-order mark, and for a <meta charset> when the
    // header names none (HTMLRewriter itself only looks at the Content-Type header).
    const want = headerCharset === null ? SNIFF_BYTES : 3;
    const peeked: Uint8Array[] = [];
    let peekedBytes = 0;
    let ended = false;
    while (peekedBytes < want) {
      const { done, value } = await raceAbort(raw.read(), signal);
      if (done) {
        ended = true;
        break;
      }
      count(value);
      if (tooLarge) throw tooLargeError();
      peeked.push(value);
      peekedBytes += value.byteLength;
    }
    const head = peeked.length === 1 ? (peeked[0] ?? new Uint8Array()) : concat(peeked);
    const charset = charsetFromBom(head) ?? headerCharset ?? charsetFromMeta(head) ?? 'utf-8';

    // Replays the held-back chunks, then pulls the rest, counting; ends quietly at maxBytes.
    const source = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const next = peeked.shift();
        if (next !== undefined) {
          controller.enqueue(next);
          return;
        }
        let chunk: ReadableStreamReadResult<Uint8Array> | null = null;
        try {
          chunk = ended ? null : await raw.read();
        } catch (err) {
          // Cancelled from our side (abort, too large) or a broken connection: end this stream
          // without a rejected pull, the failure is reported by whoever cancelled or by `out`.
          if (!tooLarge && !signal.aborted) controller.error(err);
          else controller.close();
          return;
        }
        if (chunk === null || chunk.done) {
          controller.close();
          return;
        }
        count(chunk.value);
        if (tooLarge) {
          cancelQuietly(raw);
          controller.close();
          return;
        }
        controller.enqueue(chunk.value);
      },
      cancel: (reason) => raw.cancel(reason),
    });

    const transformed = transformWith(
      extractor,
      new Response(source, { headers: { 'content-type': `text/html; charset=${charset}` } }),
      charset,
    );
    await drain(transformed, signal, buffered);
    if (tooLarge) throw tooLargeError();
    return extractor.result();
  } finally {
    // A no-op after a complete read; after a failure it closes the connection.
    cancelQuietly(raw);
  }
}

function withoutHash(url: URL): string {
  return url.hash === '' ? url.href : url.href.slice(0, -url.hash.length);
}

function reasonText(reason: unknown): string {
  if (reason === undefined) return 'aborted';
  return errorMessage(reason);
}

/** Fetches one page under its own timeout, following redirects, and extracts from it. */
export async function fetchPage(req: PageRequest): Promise<PageOutcome> {
  const started = Date.now();
  const fetchedAt = new Date(started).toISOString();
  // Not AbortSignal.timeout/any: those timers stay armed after the fetch is done, and workerd
  // allows 10,000 active timeouts per invocation (measured: a 2,000-page loop hit it). One
  // controller, one cleared timer and one removed listener per call keep nothing behind.
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
  const progress = {
    bytes: 0,
    status: null as number | null,
    finalUrl: null as string | null,
    contentType: null as string | null,
  };
  const fail = (kind: ErrorKind, message: string, retryAfter: string | null = null): Failure => ({
    ok: false,
    kind,
    message,
    status: progress.status,
    finalUrl: progress.finalUrl,
    contentType: progress.contentType,
    bytes: progress.bytes,
    durationMs: Date.now() - started,
    fetchedAt,
    retryAfter,
  });

  try {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail('network', `invalid URL: ${req.url}`);
    }
    const seen = new Set<string>();
    let res: Response;
    for (let hops = 0; ; hops++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return fail('blocked_target', `not an http(s) URL: ${url.href}`);
      }
      if (req.isBlocked?.(url)) return fail('blocked_target', `blocked target: ${url.href}`);
      seen.add(withoutHash(url));
      progress.finalUrl = url.href;
      const r = await fetch(url.href, {
        redirect: 'manual',
        signal,
        headers: REQUEST_HEADERS,
      });
      progress.status = r.status;
      progress.contentType = r.headers.get('content-type');
      const location = REDIRECT_STATUSES.has(r.status) ? r.headers.get('location') : null;
      if (location === null) {
        res = r;
        break;
      }
      cancelQuietly(r.body);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return fail('network', `invalid redirect Location: ${location}`);
      }
      if (seen.has(withoutHash(next))) {
        return fail('redirect_loop', `redirect loop: ${next.href} was already visited`);
      }
      if (hops >= MAX_REDIRECTS)
        return fail('redirect_loop', `more than ${MAX_REDIRECTS} redirects`);
      url = next;
    }

    const contentType = progress.contentType;
    if (res.status < 200 || res.status > 299) {
      cancelQuietly(res.body);
      return fail('http_status', `HTTP ${res.status}`, res.headers.get('retry-after'));
    }
    // Content-Length counts the encoded bytes; workerd hands over the decoded body, so only
    // an identity-encoded length says how many bytes will be read.
    const encoding = res.headers.get('content-encoding');
    const declared =
      encoding === null || encoding.trim().toLowerCase() === 'identity'
        ? Number(res.headers.get('content-length') ?? Number.NaN)
        : Number.NaN;
    if (declared > req.maxBytes) {
      cancelQuietly(res.body);
      return fail('too_large', `Content-Length ${declared} exceeds maxBytes (${req.maxBytes})`);
    }

    // Built only where a rewriter is needed: most small pages are read by scanHtml alone, and
    // an unused HTMLRewriter measured about 0.15 ms of CPU a page.
    const makeExtractor = isHtmlContentType(contentType)
      ? () => createExtractor(req.selectors)
      : null;
    const length = Number.isSafeInteger(declared) && declared >= 0 ? declared : null;
    const extracted = await readBody(res, length, req, signal, makeExtractor, progress);
    const names = Object.keys(req.selectors);
    return {
      ok: true,
      finalUrl: url.href,
      status: res.status,
      contentType,
      title: extracted?.title ?? null,
      links: extracted?.links ?? 0,
      bytes: progress.bytes,
      data:
        extracted?.data ??
        (names.length === 0 ? null : Object.fromEntries(names.map((n) => [n, null]))),
      durationMs: Date.now() - started,
      fetchedAt,
    };
  } catch (err) {
    if (err instanceof BodyError) return fail(err.kind, err.message);
    if (req.signal?.aborted)
      return fail('cancelled', `cancelled: ${reasonText(req.signal.reason)}`);
    if (timedOut) return fail('timeout', `timed out after ${req.timeoutMs} ms`);
    const message = errorMessage(err);
    if (message.startsWith('Parser error')) return fail('invalid_content', message);
    if (message.startsWith('internal error')) {
      // workerd's opaque text for a failed DNS lookup or connection (the detail is in its log).
      const host = progress.finalUrl === null ? req.url : new URL(progress.finalUrl).host;
      return fail('network', `could not reach ${host} (DNS lookup or connect failed: ${message})`);
    }
    return fail('network', message);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onJobAbort);
  }
}
