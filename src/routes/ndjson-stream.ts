import type { ResultsPage } from '../coordinator/job-view';

/** How a Results stream reads on. */
export interface StreamOptions {
  /** Wait for more Results until the job is terminal. */
  follow: boolean;
  /** A followed stream ends after this, like the events stream; clients resume with a cursor. */
  maxFollowMs?: number;
  /** The pause before asking again when a followed job had nothing new. */
  pollMs?: number;
  now?: () => number;
  /** How Results are written: NDJSON (one per line) unless given. */
  format?: StreamFormat;
}

/** A way to write a stream of Results: its media type, what comes first, and each page. */
export interface StreamFormat {
  contentType: string;
  head: (first: ResultsPage) => string;
  page: (page: ResultsPage) => string;
}

export const NDJSON: StreamFormat = {
  contentType: 'application/x-ndjson; charset=utf-8',
  head: () => '',
  page: (p) => `${p.bodies.join('\n')}\n`,
};

const MAX_FOLLOW_MS = 15 * 60_000;
const FOLLOW_POLL_MS = 500;

/**
 * Every Result from `first` on, one per line (or as `format` writes them), one page read per
 * pull: memory holds one page (bounded by rows and bytes) whatever the job's size.
 */
export function ndjsonResponse(
  first: ResultsPage,
  nextPage: (afterSeq: number) => Promise<ResultsPage | null>,
  options: StreamOptions,
): Response {
  const { follow, maxFollowMs = MAX_FOLLOW_MS, pollMs = FOLLOW_POLL_MS } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const enc = new TextEncoder();
  const format = options.format ?? NDJSON;
  let page: ResultsPage | null = first;
  let unsent = true;
  let headSent = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (!page) break;
        if (!headSent) {
          headSent = true;
          const head = format.head(page);
          if (head !== '') controller.enqueue(enc.encode(head));
        }
        if (unsent) {
          unsent = false;
          if (page.bodies.length > 0) {
            controller.enqueue(enc.encode(format.page(page)));
            return;
          }
        }
        if (!page.more && (!follow || page.terminal)) break;
        if (follow && now() - started >= maxFollowMs) break;
        if (page.bodies.length === 0 && !page.more) await sleep(pollMs);
        page = await nextPage(page.lastSeq);
        unsent = true;
      }
      controller.close();
    },
  });
  return new Response(stream, {
    headers: {
      'content-type': format.contentType,
      'cache-control': 'no-store',
    },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
