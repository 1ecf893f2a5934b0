import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { coordinatorFor, found, ownerScope } from './job-stub';
import { parseLimit, readCursor } from './paging';

export const attemptRoutes = new Hono<AppEnv>();

/**
 * The attempts that did not give a URL its Result: each failure that was retried and each
 * fetch lost with a crashed shard, in URL order, then attempt order. (The last attempt of a
 * URL is its Result.)
 */
attemptRoutes.get('/:id/attempts', async (c) => {
  const id = c.req.param('id');
  const stub = coordinatorFor(c.env, id);
  const after = decodeCursor(c.req.query('cursor'));
  const limit = parseLimit(c.req.query('limit'));
  const page = found(await stub.attemptLog(after.idx, after.n, limit, ownerScope(c)), id);
  const last = page.items.at(-1);
  const more = page.items.length === limit || !page.terminal;
  const nextCursor = more ? encodeCursor(last?.idx ?? after.idx, last?.attempt ?? after.n) : null;
  return c.json({
    items: page.items.map(({ idx: _idx, ...item }) => item),
    nextCursor,
  });
});

function encodeCursor(idx: number, n: number): string {
  return btoa(`a${idx}.${n}`).replaceAll('=', '');
}

function decodeCursor(raw: string | undefined): { idx: number; n: number } {
  // Attempts are numbered from 1, so (0, 0) comes before every entry.
  if (raw === undefined || raw === '') return { idx: 0, n: 0 };
  const m = readCursor(raw, /^a(\d{1,15})\.(\d{1,4})$/);
  return { idx: Number(m[1]), n: Number(m[2]) };
}
