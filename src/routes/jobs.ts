import { type Context, Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { jobLimits, parseDeadlinePatch, parseJob } from '../jobs/schema';
import { TERMINAL_STATUSES } from '../jobs/types';
import { sha256Hex } from '../lib/ids';
import { ApiError } from '../middleware/errors';
import { coordinatorFor, found, ownerScope } from './job-stub';
import { invalidBody, readJsonBody } from './json-body';
import { acceptedAnswer, jobIndex, startJob } from './new-job';
import {
  LIST_DEFAULT_LIMIT,
  LIST_MAX_LIMIT,
  nextListCursor,
  parseLimit,
  readListCursor,
} from './paging';

/**
 * Request bodies above this are refused before parsing: 100,000 URLs of ~160 characters fit,
 * and the URLs and their normalised forms then stay under the 32 MiB limit of one RPC.
 */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** A PATCH body is one small field; this leaves room for any formatting of it. */
const MAX_PATCH_BYTES = 4 * 1024;
const MAX_WAIT_S = 30;

export const jobRoutes = new Hono<AppEnv>();

/**
 * A job may be compared only with a terminal job the caller can read: else a 400 naming
 * `compareWith` (no such job, or another key's), or a 409 (it still runs). Checked before
 * anything is created.
 */
async function checkComparable(c: Context<AppEnv>, id: string): Promise<void> {
  const view = await c.env.JOB_COORDINATOR.getByName(id).view(ownerScope(c));
  if (view === null) throw invalidBody([{ path: 'compareWith', message: `no job ${id}` }], 'job');
  if (!TERMINAL_STATUSES.includes(view.status)) {
    throw new ApiError(
      'conflict',
      `compareWith: job ${id} is ${view.status}; a job can be compared only with one that ended`,
    );
  }
}

jobRoutes.post('/', async (c) => {
  const { text, body } = await readJsonBody(c, 'job', MAX_BODY_BYTES);
  const parsed = parseJob(body, jobLimits(c.env));
  if (!parsed.ok) throw invalidBody(parsed.issues, 'job');
  const wait = parseWait(c.req.query('wait'));
  const { spec, urls, norms } = parsed;
  if (spec.compareWith) await checkComparable(c, spec.compareWith);
  const { id, created } = await startJob(c, { spec, urls, norms, bodyHash: await sha256Hex(text) });
  let view = created.view;
  if (wait > 0 && !TERMINAL_STATUSES.includes(view.status)) {
    view = found(await c.env.JOB_COORDINATOR.getByName(id).waitForEnd(wait * 1000), id);
  }
  const ended = TERMINAL_STATUSES.includes(view.status) && wait > 0;
  return acceptedAnswer(c, id, created, view, ended ? 200 : 202);
});

/**
 * Recent jobs, newest first, each with its live status (from its own coordinator): the
 * caller's own, or every job for the admin.
 */
jobRoutes.get('/', async (c) => {
  const limit = parseLimit(c.req.query('limit'), LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT);
  const after = readListCursor(c.req.query('cursor'), /[0-9a-z]{1,40}/);
  const page = await jobIndex(c.env).page(limit, after, ownerScope(c) ?? null);
  const views = await Promise.all(page.map((j) => c.env.JOB_COORDINATOR.getByName(j.id).view()));
  return c.json({
    items: views.filter((v) => v !== null),
    nextCursor: nextListCursor(page.at(-1), page.length, limit),
  });
});

jobRoutes.get('/:id', async (c) => {
  const id = c.req.param('id');
  return c.json(found(await coordinatorFor(c.env, id).view(ownerScope(c)), id));
});

/** Cancels the job; with `?purge=true`, cancels it if it runs and deletes all of its data. */
jobRoutes.delete('/:id', async (c) => {
  const id = c.req.param('id');
  const purge = c.req.query('purge');
  if (purge !== undefined && purge !== 'true' && purge !== 'false') {
    throw new ApiError('invalid_request', 'purge: expected true or false');
  }
  const stub = coordinatorFor(c.env, id);
  if (purge === 'true') {
    if (!(await stub.purge(ownerScope(c)))) throw new ApiError('not_found', `no job ${id}`);
    return c.json({ id, purged: true });
  }
  return c.json(found(await stub.cancel(ownerScope(c)), id));
});

/** Moves the deadline (`{"deadlineMs": n}`, counted from creation), earlier or later. */
jobRoutes.patch('/:id', async (c) => {
  const id = c.req.param('id');
  const stub = coordinatorFor(c.env, id);
  const { body } = await readJsonBody(c, 'deadline change', MAX_PATCH_BYTES);
  const parsed = parseDeadlinePatch(body);
  if (!parsed.ok) throw invalidBody(parsed.issues, 'deadline change');
  const res = await stub.setDeadline(parsed.deadlineMs, ownerScope(c));
  if (!res.ok) throw new ApiError(res.code, res.message);
  return c.json(res.view);
});

function parseWait(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > MAX_WAIT_S) {
    throw new ApiError(
      'invalid_request',
      `wait: expected an integer number of seconds 0..${MAX_WAIT_S}`,
    );
  }
  return n;
}
