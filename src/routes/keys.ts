import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { parseKey } from '../keys/schema';
import { forgetKey } from '../keys/token-cache';
import { adminOnly } from '../middleware/auth';
import { ApiError } from '../middleware/errors';
import { invalidBody, readJsonBody } from './json-body';
import {
  LIST_DEFAULT_LIMIT,
  LIST_MAX_LIMIT,
  nextListCursor,
  parseLimit,
  readListCursor,
} from './paging';

/** A key's fields are short: a name of 100 characters and two numbers. */
const MAX_BODY_BYTES = 4 * 1024;
const KEY_ID = /key_[0-9a-z]{8,10}[0-9a-f]{12}/;

/** API keys, managed by the admin (API_TOKEN) only. */
export const keyRoutes = new Hono<AppEnv>();

keyRoutes.use('*', adminOnly());

keyRoutes.post('/', async (c) => {
  const { body } = await readJsonBody(c, 'key', MAX_BODY_BYTES);
  const parsed = parseKey(body);
  if (!parsed.ok) throw invalidBody(parsed.issues, 'key');
  const key = await keyStore(c.env).create(parsed.spec);
  c.header('Location', `/v1/keys/${key.id}`);
  return c.json(key, 201);
});

/** Keys, newest first, paginated like GET /v1/jobs; tokens are never shown again. */
keyRoutes.get('/', async (c) => {
  const limit = parseLimit(c.req.query('limit'), LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT);
  const after = readListCursor(c.req.query('cursor'), KEY_ID);
  const items = await keyStore(c.env).page(limit, after);
  const last = items.at(-1);
  const position = last && { createdAt: Date.parse(last.createdAt), id: last.id };
  return c.json({ items, nextCursor: nextListCursor(position, items.length, limit) });
});

/**
 * Deletes a key: its token is refused from now on and its schedules are deleted (nothing may
 * start jobs in its name any more); the jobs it started run on, readable by the admin.
 */
keyRoutes.delete('/:id', async (c) => {
  const id = c.req.param('id');
  // Schedules first: should deleting the key then fail, a repeated DELETE finishes the job.
  await c.env.SCHEDULER.getByName('all').removeOwned(id);
  if (!(await keyStore(c.env).remove(id))) throw new ApiError('not_found', `no key ${id}`);
  forgetKey(id);
  return c.json({ id, deleted: true });
});

function keyStore(env: Env) {
  return env.KEY_STORE.getByName('all');
}
