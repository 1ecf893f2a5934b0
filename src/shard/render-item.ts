// A page of a job that renders (`render`): rendered always, or fetched and rendered when the
// static page looks built by its scripts.
import { errorMessage, raceAbort } from '../fetch/body-io';
import { fetchPage, type PageOutcome, type PageRequest } from '../fetch/fetch-page';
import { renderFailure, renderOutcome } from '../fetch/render-outcome';
import type { RenderRequest, RenderResult } from '../render/protocol';

/** A job's renderer, as a shard calls it (the Renderer Durable Object's RPC). */
export interface RenderPort {
  render(req: RenderRequest): Promise<RenderResult>;
}

/**
 * The outcome of one page of a rendering job. `page` is its request as a fetch (its `signal`
 * the run's: an abort ends a render in flight as cancelled at once), `render` the same page for
 * the renderer; `port` undefined: the shard has no renderer, a failure.
 */
export async function renderedPage(
  page: PageRequest,
  render: RenderRequest,
  port: RenderPort | undefined,
): Promise<PageOutcome> {
  if (render.render.mode === 'always') return renderPage(page, render, port);
  // Not asked conditionally: a 304 would carry forward fields of the compared job, which may
  // be a static page's where this job renders; a rendering job compares by content hash.
  const fetched = await fetchPage({
    ...page,
    signals: true,
    ifNoneMatch: undefined,
    ifModifiedSince: undefined,
  });
  if (!fetched.ok) return fetched;
  const { scriptBuilt, ...outcome } = fetched;
  // Only an HTML body that was parsed is judged: any other is kept as fetched.
  if (scriptBuilt === undefined || scriptBuilt === null) return outcome;
  return renderPage(page, render, port);
}

/** Renders one page through `port` and extracts from its HTML as from a fetched body. */
async function renderPage(
  page: PageRequest,
  render: RenderRequest,
  port: RenderPort | undefined,
): Promise<PageOutcome> {
  const started = Date.now();
  const fetchedAt = new Date(started).toISOString();
  const failed = (kind: 'cancelled' | 'network', message: string): PageOutcome =>
    renderFailure(
      { kind, message, status: null, finalUrl: null, renderMs: Date.now() - started },
      null,
      fetchedAt,
    );
  if (port === undefined) return failed('network', 'no renderer for this job');
  const signal = page.signal ?? new AbortController().signal;
  let result: RenderResult;
  try {
    const call = port.render(render);
    // Lost to an abort, the call's own end is of no interest.
    call.catch(() => undefined);
    result = await raceAbort(call, signal);
  } catch (err) {
    if (signal.aborted) return failed('cancelled', `cancelled: ${abortText(signal.reason)}`);
    return failed('network', `renderer failed: ${errorMessage(err)}`);
  }
  return renderOutcome(result, page, fetchedAt);
}

function abortText(reason: unknown): string {
  return reason === undefined ? 'aborted' : errorMessage(reason);
}
