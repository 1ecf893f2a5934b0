import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { coordinatorFor, found } from './job-stub';
import { parseLimit, readCursor } from './paging';

const STREAM_PAGE = 500;
const FOLLOW_POLL_MS = 500;

export const resultRoutes = new Hono<AppEnv>();

/** Results in settlement order: a JSON page with a cursor, or all of them as NDJSON. */
resultRoutes.get('/:id/results', async (c) => {
  const id = c.req.param('id');
  const stub = coordinatorFor(c.env, id);
  const after = decodeCursor(c.req.query('cursor'));
  if ((c.req.header('accept') ?? '').includes('application/x-ndjson')) {
    const first = found(await stub.results(after, STREAM_PAGE), id);
    const follow = c.req.query('follow') === 'true';
    let page = first;
    let lastSeq = first.lastSeq;
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const enc = new TextEncoder();
        for (;;) {
          if (!sent) {
            sent = true;
            if (page.bodies.length > 0) {
              controller.enqueue(enc.encode(`${page.bodies.join('\n')}\n`));
              return;
            }
          }
          if (page.bodies.length < STREAM_PAGE && (!follow || page.terminal)) {
            controller.close();
            return;
          }
          if (page.bodies.length === 0) await sleep(FOLLOW_POLL_MS);
          const next = await stub.results(lastSeq, STREAM_PAGE);
          if (!next) {
            controller.close();
            return;
          }
          page = next;
          lastSeq = next.lastSeq;
          sent = false;
        }
      },
    });
    return new Response(stream, {
      headers: {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'cache-control': 'no-store',
      },
    });
  }
  const limit = parseLimit(c.req.query('limit'));
  const page = found(await stub.results(after, limit), id);
  const more = page.bodies.length === limit || !page.terminal;
  const next = more ? JSON.stringify(encodeCursor(page.lastSeq)) : 'null';
  return c.body(`{"items":[${page.bodies.join(',')}],"nextCursor":${next}}`, 200, {
    'content-type': 'application/json; charset=utf-8',
  });
});

/** Cursors are opaque to clients: the last settlement sequence number seen, encoded. */
function encodeCursor(seq: number): string {
  return btoa(`s${seq}`).replaceAll('=', '');
}

function decodeCursor(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  return Number(readCursor(raw, /^s(\d{1,15})$/)[1]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
