// A rendered page's outcome: its HTML goes through the very read path of a fetched body, so a
// page fetched and the same page rendered cannot disagree about what their fields are.
import type { RenderResult } from '../render/protocol';
import { BodyError, errorMessage, storeError } from './body-io';
import type { BodySink, OpenBodySink } from './body-sink';
import type { Extracted } from './extract';
import { type PageOutcome, type PageRequest, pageExtractor, readIntoSink } from './fetch-page';
import { extractedFields } from './page-outcome';
import { readBody } from './read-body';

/**
 * What a rendered page's extraction takes from its request: what a fetch's read takes, and
 * where its HTML is stored (`openSink`, under the fetch's `signal`) as a fetched body would be.
 */
export type RenderedRequest = Pick<
  PageRequest,
  'maxBytes' | 'selectors' | 'links' | 'meta' | 'openSink' | 'signal'
>;

/** The Content-Type of a rendered page's HTML as it is read and stored: UTF-8 text. */
const RENDERED_TYPE = 'text/html; charset=utf-8';

/** What the rendered HTML yields: its fields, its UTF-8 length and `sha256:<hex>` of it. */
export interface RenderedPage {
  extracted: Extracted;
  bytes: number;
  contentHash: string;
}

const UTF8 = new TextEncoder();

/**
 * The rendered `html` of a page at `finalUrl` read as a fetched body is: a UTF-8 HTML response
 * of known length, through readBody and the page's extractor, and into a body sink when the
 * job stores bodies. Rejects with a BodyError (too_large beyond `maxBytes`, a sink's failure)
 * as readBody does.
 */
export async function extractRendered(
  html: string,
  finalUrl: string,
  req: RenderedRequest,
): Promise<RenderedPage> {
  // Only what was asked of the page: a rendered page is not judged script-built again.
  const read = {
    maxBytes: req.maxBytes,
    selectors: req.selectors,
    links: req.links,
    meta: req.meta,
  };
  const body = UTF8.encode(html);
  const res = new Response(body, { headers: { 'content-type': RENDERED_TYPE } });
  const progress: { bytes: number; hash: string | null } = { bytes: 0, hash: null };
  const makeExtractor = pageExtractor(read, finalUrl);
  const signal = req.signal ?? new AbortController().signal;
  const readAll = (sink: BodySink | null) =>
    readBody(res, body.byteLength, read, signal, makeExtractor, progress, sink);
  const sink = openSink(req.openSink);
  const extracted =
    sink === null
      ? await readAll(null)
      : await readIntoSink(sink, () => readAll(sink), signal, progress);
  // readBody resolves with the hash set, and to null only without an extractor.
  if (extracted === null || progress.hash === null) {
    throw new Error('rendered HTML was not read whole');
  }
  return { extracted, bytes: progress.bytes, contentHash: `sha256:${progress.hash}` };
}

/** The sink of a rendered page's HTML when the job stores bodies; a throw fails the page. */
function openSink(open: OpenBodySink | undefined): BodySink | null {
  try {
    return open?.(RENDERED_TYPE) ?? null;
  } catch (err) {
    throw storeError(err);
  }
}

/**
 * The outcome of rendering one page, begun at `fetchedAt`: an ok render's HTML extracted as a
 * fetched body would be, timed by the render; a failed one as the renderer reported it.
 */
export async function renderOutcome(
  result: RenderResult,
  req: RenderedRequest,
  fetchedAt: string,
): Promise<PageOutcome> {
  if (!result.ok) return renderFailure(result, null, fetchedAt);
  let page: RenderedPage;
  try {
    page = await extractRendered(result.html, result.finalUrl, req);
  } catch (err) {
    // Only a store of the HTML waits on the signal: an abort there ends the page as cancelled.
    const aborted = req.signal?.aborted === true;
    if (!(err instanceof BodyError) && !aborted) throw err;
    const failed =
      err instanceof BodyError
        ? { kind: err.kind, message: err.message }
        : { kind: 'cancelled' as const, message: `cancelled: ${errorMessage(err)}` };
    return renderFailure({ ...result, ...failed }, result.contentType, fetchedAt);
  }
  const fields = extractedFields(page.extracted, req);
  return {
    ok: true,
    finalUrl: result.finalUrl,
    status: result.status,
    contentType: result.contentType,
    ...fields,
    bytes: page.bytes,
    etag: result.etag,
    lastModified: result.lastModified,
    contentHash: page.contentHash,
    notModified: false,
    rendered: true,
    renderMs: result.renderMs,
    durationMs: result.renderMs,
    fetchedAt,
  };
}

/** The failed outcome of a render that gave no page (`contentType`: the navigation's). */
export function renderFailure(
  result: Pick<
    Extract<RenderResult, { ok: false }>,
    'kind' | 'message' | 'status' | 'finalUrl' | 'renderMs'
  >,
  contentType: string | null,
  fetchedAt: string,
): PageOutcome {
  return {
    ok: false,
    kind: result.kind,
    message: result.message,
    status: result.status,
    finalUrl: result.finalUrl,
    contentType,
    bytes: 0,
    durationMs: result.renderMs,
    fetchedAt,
    retryAfter: null,
  };
}
