import {
  BodyError,
  cancelQuietly,
  EMPTY_SHA256_HEX,
  errorMessage,
  raceAbort,
  StreamHash,
  StreamTap,
  sha256Hex,
  storeChunk,
  tooLargeError,
} from './body-io';
import type { BodySink } from './body-sink';
import { bodyCharset, charsetFromContentType, decoderFirst, isUtf8, SNIFF_BYTES } from './charset';
import type { createExtractor, Extracted } from './extract';
import type { PageRequest } from './fetch-page';
import { scanHtml } from './scan-html';

export { BodyError, cancelQuietly, errorMessage } from './body-io';

/** Largest body whose (discarded) parser output may be drained in one native call. */
const BUFFER_LIMIT = 256 * 1024;

const UTF8 = new TextDecoder();

type Extractor = ReturnType<typeof createExtractor>;

/** What reading a body takes from its page's request. */
export type BodyRequest = Pick<
  PageRequest,
  'maxBytes' | 'selectors' | 'links' | 'meta' | 'signals' | 'onBodyRead'
>;

/**
 * The bytes read so far, what a failure reports; and, once the body was read whole, the
 * lowercase hex SHA-256 of its bytes as received (after content decoding).
 */
type ByteCount = { bytes: number; hash?: string | null };

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
 * Consumes and discards the rewriter's output. It comes in many tiny chunks (one per handler
 * call), each a JS call when read by a loop, so output known to be small (<= BUFFER_LIMIT) is
 * drained natively by arrayBuffer() and dropped; larger or unbounded output is read chunk by
 * chunk, never held.
 */
async function drain(transformed: Response, signal: AbortSignal, buffered: boolean): Promise<void> {
  // No raceAbort here: `signal` also went to fetch, and its abort errors the body, which ends
  // the rewriter's input at once (see replayStream; the abort tests check it).
  if (buffered) {
    await transformed.arrayBuffer();
    return;
  }
  const out = transformed.body?.getReader();
  if (!out) return;
  try {
    for (;;) {
      const { done } = await raceAbort(out.read(), signal);
      if (done) return;
    }
  } catch (err) {
    cancelQuietly(out);
    throw err;
  }
}

/** Whether `req` asks for the default extraction only (title, link count): scanHtml's part. */
function defaultExtraction(req: BodyRequest): boolean {
  return (
    Object.keys(req.selectors).length === 0 &&
    req.links !== true &&
    req.meta !== true &&
    req.signals !== true
  );
}

/**
 * A small HTML body whose length is known: read whole (natively, one call), then extracted by
 * scanHtml when it can (UTF-8 or decoded here, the default extraction, a page in its subset),
 * else by the extractor's HTMLRewriter in one chunk. Cheaper than streaming, where every
 * HTMLRewriter callback is a native -> JS round trip. Hashed in one call, and given to the sink
 * as one chunk.
 */
async function readSmallHtml(
  res: Response,
  req: BodyRequest,
  headerCharset: string | null,
  makeExtractor: () => Extractor,
  signal: AbortSignal,
  sink: BodySink | null,
  progress: ByteCount,
): Promise<Extracted> {
  // `signal` went to fetch: its abort errors the body, which rejects arrayBuffer() at once.
  const buf = new Uint8Array(await res.arrayBuffer());
  req.onBodyRead?.();
  progress.bytes = buf.byteLength;
  if (progress.bytes > req.maxBytes) {
    throw new BodyError('too_large', `body exceeds maxBytes (${req.maxBytes})`);
  }
  const hashing = sha256Hex(buf);
  if (sink !== null) await storeChunk(sink, buf, signal);
  const extracted = await parseSmallHtml(buf, req, headerCharset, makeExtractor);
  progress.hash = await hashing;
  return extracted;
}

/** Extracts from a small HTML body read whole (see readSmallHtml). */
async function parseSmallHtml(
  buf: Uint8Array,
  req: BodyRequest,
  headerCharset: string | null,
  makeExtractor: () => Extractor,
): Promise<Extracted> {
  const charset = bodyCharset(buf, headerCharset);
  // TextDecoder drops a byte-order mark of its encoding, as the HTML parser does.
  const decoded = decoderFirst(charset)?.decode(buf) ?? null;
  const parseAs = decoded === null ? charset : 'utf-8';
  if (isUtf8(parseAs) && defaultExtraction(req)) {
    const scanned = scanHtml(decoded ?? UTF8.decode(buf));
    if (scanned !== null) return scanned;
  }
  const source = new Response(decoded ?? buf, {
    headers: { 'content-type': `text/html; charset=${parseAs}` },
  });
  const extractor = makeExtractor();
  await transformWith(extractor, source, charset).arrayBuffer();
  return extractor.result();
}

/** Reads and counts a body that is not parsed; throws too_large past maxBytes. */
async function readUnparsed(
  body: ReadableStream,
  maxBytes: number,
  signal: AbortSignal,
  progress: ByteCount,
): Promise<null> {
  const raw = body.getReader();
  const hash = new StreamHash();
  try {
    for (;;) {
      const { done, value } = await raceAbort(raw.read(), signal);
      if (done) break;
      progress.bytes += value.byteLength;
      if (progress.bytes > maxBytes) throw tooLargeError(maxBytes, progress.bytes);
      hash.update(value);
    }
    progress.hash = await hash.hex();
    return null;
  } finally {
    // A no-op after a complete read; after a failure it closes the connection.
    cancelQuietly(raw);
  }
}

/**
 * The held-back chunks `peeked`, then the rest of `raw`, counted into `progress`. Ends quietly
 * (closes) past maxBytes and when `raw` fails after an abort; `peeked` is consumed.
 */
function replayStream(
  raw: ReadableStreamDefaultReader<Uint8Array>,
  peeked: Uint8Array[],
  ended: boolean,
  maxBytes: number,
  signal: AbortSignal,
  progress: ByteCount,
  tap: StreamTap,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
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
        // without a rejected pull; the failure is reported by whoever cancelled `raw` or by
        // the read of the rewriter's output.
        if (progress.bytes <= maxBytes && !signal.aborted) controller.error(err);
        else controller.close();
        return;
      }
      if (chunk === null || chunk.done) {
        controller.close();
        return;
      }
      progress.bytes += chunk.value.byteLength;
      if (progress.bytes <= maxBytes) tap.hash.update(chunk.value);
      if (progress.bytes > maxBytes || (tap.sink !== null && !(await tap.stored(chunk.value)))) {
        cancelQuietly(raw);
        controller.close();
        return;
      }
      controller.enqueue(chunk.value);
    },
    cancel: (reason) => raw.cancel(reason),
  });
}

/**
 * `body` in `charset` as the rewriter can parse it: as it is, or decoded here and given to the
 * rewriter as UTF-8 (see decoderFirst), which takes at most 3 bytes per byte of the body (1.5
 * for UTF-16): a drained output known to be small stays small. Returns the stream and the
 * charset to parse it as.
 */
function parseable(
  body: ReadableStream<Uint8Array>,
  charset: string,
): { stream: ReadableStream<Uint8Array>; parseAs: string } {
  const decoder = decoderFirst(charset);
  if (decoder === null) return { stream: body, parseAs: charset };
  const stream = body
    .pipeThrough(new TextDecoderStream(decoder.encoding))
    .pipeThrough(new TextEncoderStream());
  return { stream, parseAs: 'utf-8' };
}

/**
 * An HTML body streamed through the rewriter, after its first bytes are held back to choose
 * the charset: for a byte-order mark, which overrides the header, and for a `<meta charset>`
 * when the header names none (HTMLRewriter itself only looks at the Content-Type header, and
 * takes no byte-order mark into account).
 */
async function readSniffingCharset(
  body: ReadableStream,
  extractor: Extractor,
  headerCharset: string | null,
  maxBytes: number,
  signal: AbortSignal,
  buffered: boolean,
  progress: ByteCount,
  sink: BodySink | null,
): Promise<Extracted> {
  const raw = body.getReader();
  const tap = new StreamTap(sink, signal);
  try {
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
      progress.bytes += value.byteLength;
      if (progress.bytes > maxBytes) throw tooLargeError(maxBytes, progress.bytes);
      tap.hash.update(value);
      if (sink !== null) await storeChunk(sink, value, signal);
      peeked.push(value);
      peekedBytes += value.byteLength;
    }
    const head = peeked.length === 1 ? (peeked[0] ?? new Uint8Array()) : concat(peeked);
    const charset = bodyCharset(head, headerCharset);
    const replayed = replayStream(raw, peeked, ended, maxBytes, signal, progress, tap);
    const { stream, parseAs } = parseable(replayed, charset);
    const transformed = transformWith(
      extractor,
      new Response(stream, { headers: { 'content-type': `text/html; charset=${parseAs}` } }),
      charset,
    );
    await drain(transformed, signal, buffered);
    // An abort ends the replayed body quietly (see replayStream), so the rewriter sees a
    // complete page: what it extracted is partial and must not pass as the page's.
    if (signal.aborted) throw signal.reason;
    if (tap.failed !== null) throw tap.failed;
    if (progress.bytes > maxBytes) throw tooLargeError(maxBytes, progress.bytes);
    progress.hash = await tap.hash.hex();
    return extractor.result();
  } finally {
    // A no-op after a complete read; after a failure it closes the connection.
    cancelQuietly(raw);
  }
}

/**
 * Reads the whole body, counting its bytes into `progress` and hashing them into
 * `progress.hash`, and extracts from it when HTML. A `sink` (HTML only) is given every chunk as
 * it is read; closing or aborting it is the caller's.
 */
export function readBody(
  res: Response,
  declared: number | null,
  req: BodyRequest,
  signal: AbortSignal,
  makeExtractor: (() => Extractor) | null,
  progress: ByteCount,
  sink: BodySink | null = null,
): Promise<Extracted | null> {
  // Counts raw bytes and enforces maxBytes; HTML goes through the extractor (null: not HTML,
  // not parsed) and the parser's output is discarded. Holds at most BUFFER_LIMIT bytes (see
  // readSmallHtml), and on the streaming paths only up to SNIFF_BYTES. Resolves to what was
  // extracted (null for a body not parsed); rejects with a BodyError (a sink's failure is one
  // of kind network) or the error (or abort reason) that ended the read. Not async: each
  // strategy's promise is handed back as is, without one more await hop.
  const body = res.body;
  if (body === null) {
    progress.hash = EMPTY_SHA256_HEX;
    return Promise.resolve(makeExtractor?.().result() ?? null);
  }
  const headerCharset = charsetFromContentType(res.headers.get('content-type'));
  if (makeExtractor !== null && declared !== null && declared <= BUFFER_LIMIT) {
    return readSmallHtml(res, req, headerCharset, makeExtractor, signal, sink, progress);
  }
  const extractor = makeExtractor?.() ?? null;
  if (extractor === null) return readUnparsed(body, req.maxBytes, signal, progress);
  // Larger bodies: drain the rewriter's output natively when it is known to be small.
  const buffered = Math.min(declared ?? Number.POSITIVE_INFINITY, req.maxBytes) <= BUFFER_LIMIT;
  return readSniffingCharset(
    body,
    extractor,
    headerCharset,
    req.maxBytes,
    signal,
    buffered,
    progress,
    sink,
  );
}
