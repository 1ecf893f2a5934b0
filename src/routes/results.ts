import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { coordinatorFor, found, ownerScope } from './job-stub';
import { ndjsonResponse } from './ndjson-stream';
import { parseLimit, readCursor } from './paging';

const STREAM_PAGE = 500;

export const resultRoutes = new Hono<AppEnv>();

/** Results in settlement order: a JSON page with a cursor, or all of them as NDJSON. */
resultRoutes.get('/:id/results', async (c) => {
  const id = c.req.param('id');
  const stub = coordinatorFor(c.env, id);
  const after = decodeCursor(c.req.query('cursor'));
  const owner = ownerScope(c);
  if ((c.req.header('accept') ?? '').includes('application/x-ndjson')) {
    const first = found(await stub.results(after, STREAM_PAGE, owner), id);
    const follow = c.req.query('follow') === 'true';
    return ndjsonResponse(first, (seq) => stub.results(seq, STREAM_PAGE, owner), { follow });
  }
  const limit = parseLimit(c.req.query('limit'));
  const page = found(await stub.results(after, limit, owner), id);
  const more = page.more || !page.terminal;
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
