import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-env';
import { toIssues } from '../jobs/schema';
import { ERROR_KINDS, type ErrorKind } from '../jobs/types';
import { sha256Hex } from '../lib/ids';
import { ApiError } from '../middleware/errors';
import { coordinatorFor, ownerScope } from './job-stub';
import { invalidBody, readJsonBody } from './json-body';
import { acceptedAnswer, startJob } from './new-job';

/** `{kinds?: [...]}`: ten kinds at most, so a small body. */
const MAX_BODY_BYTES = 4 * 1024;

export const redriveSchema = z.strictObject({
  kinds: z.array(z.enum(ERROR_KINDS)).min(1).max(ERROR_KINDS.length).optional(),
});

export const redriveRoutes = new Hono<AppEnv>();

/**
 * A new job with the source job's spec and only its URLs whose Result is not ok (of `kinds`,
 * when given; by default every kind, `cancelled` and `deadline` included). Answers like
 * POST /v1/jobs; 409 while the source runs or when it has nothing to redrive.
 */
redriveRoutes.post('/:id/redrive', async (c) => {
  const id = c.req.param('id');
  const source = coordinatorFor(c.env, id);
  const kinds = await readKinds(c);
  const from = await source.redriveSource(kinds, ownerScope(c));
  if (!from.ok) throw new ApiError(from.code, from.message);
  const bodyHash = await sha256Hex(`redrive ${id} ${kinds?.join(',') ?? '*'}`);
  const spec = { ...from.spec, redriveOf: id };
  const { id: newId, created } = await startJob(c, { ...from, spec, bodyHash });
  // The new job exists from here; recording it on the source only adds it to that view.
  if (created.kind === 'created') await source.addRedrive(newId);
  return acceptedAnswer(c, newId, created, created.view, 202, { redriveOf: id });
});

/** The kinds asked for: none (all) with no body, else a validated `{kinds}`. */
async function readKinds(c: Context<AppEnv>): Promise<ErrorKind[] | null> {
  const declared = c.req.header('content-length');
  if (declared === '0' || (declared === undefined && c.req.raw.body === null)) return null;
  const { body } = await readJsonBody(c, 'redrive', MAX_BODY_BYTES);
  const parsed = redriveSchema.safeParse(body);
  if (!parsed.success) throw invalidBody(toIssues(parsed.error.issues), 'redrive');
  return parsed.data.kinds ?? null;
}
