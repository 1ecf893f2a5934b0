import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { isJobId } from '../lib/ids';
import { ApiError } from '../middleware/errors';

/** The coordinator of a job id, or a 404 for an id that cannot exist. */
export function coordinatorFor(env: Env, id: string) {
  if (!isJobId(id)) throw new ApiError('not_found', `no job ${id}`);
  return env.JOB_COORDINATOR.getByName(id);
}

/** Throws the 404 envelope when a coordinator answered that it holds no job. */
export function found<T>(value: T | null, id: string): T {
  if (value === null) throw new ApiError('not_found', `no job ${id}`);
  return value;
}

/**
 * The owner a coordinator call is scoped to: an API key reaches only its own jobs (another's
 * answer as if absent: 404, never 403); the admin (undefined) reaches all.
 */
export function ownerScope(c: Context<AppEnv>): string | undefined {
  return c.var.caller.admin ? undefined : c.var.caller.owner;
}
