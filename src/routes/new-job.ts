import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { createJob } from '../jobs/create-job';
import type { CreateOutcome, JobSpec, JobView } from '../jobs/types';
import { newJobId, sha256Hex } from '../lib/ids';
import { ApiError } from '../middleware/errors';

/** What a new job is made of, validated: POST /v1/jobs and a redrive alike. */
export interface JobInput {
  spec: JobSpec;
  urls: string[];
  norms: string[];
  /** The same id with another hash is a conflict (a reused Idempotency-Key). */
  bodyHash: string;
}

type Created = Extract<CreateOutcome, { kind: 'created' | 'existing' }>;

/** The request's Idempotency-Key, if any (1..256 characters). */
export function idempotencyKey(c: Context<AppEnv>): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key !== undefined && (key.length === 0 || key.length > 256)) {
    throw new ApiError('invalid_request', 'Idempotency-Key: must be 1..256 characters');
  }
  return key;
}

/**
 * Creates the caller's job: its id (from the Idempotency-Key, or new), its place among an API
 * key's active jobs (429 before anything is created), then the job. A conflict gives its place
 * back.
 */
export async function startJob(
  c: Context<AppEnv>,
  input: JobInput,
): Promise<{ id: string; created: Created }> {
  const caller = c.var.caller;
  if (input.spec.concurrency > caller.maxConcurrency) {
    throw new ApiError(
      'invalid_request',
      `concurrency: at most ${caller.maxConcurrency} for this API key (its maxConcurrency)`,
    );
  }
  const { id, inserted } = await reserveJob(c, idempotencyKey(c));
  const created = await createJob(c.env, { id, owner: caller.owner, ...input });
  if (created.kind === 'conflict') {
    if (inserted) await jobIndex(c.env).release(id);
    throw new ApiError('conflict', created.message);
  }
  return { id, created };
}

/** The answer to a new job: 202 (or `status`) with its id, counts and links. */
export function acceptedAnswer(
  c: Context<AppEnv>,
  id: string,
  created: Created,
  view: JobView,
  status: 200 | 202 = 202,
  extra: Record<string, unknown> = {},
): Response {
  const self = `/v1/jobs/${id}`;
  c.header('Location', self);
  return c.json(
    {
      id,
      status: view.status,
      accepted: created.accepted,
      duplicates: created.duplicates,
      ...extra,
      links: { self, results: `${self}/results`, events: `${self}/events` },
    },
    status,
  );
}

/**
 * The id a new job takes: the one its Idempotency-Key names (per owner), else a new one. An
 * API key's job also takes a place among the key's active jobs here, or is refused with 429
 * before anything is created.
 */
async function reserveJob(
  c: Context<AppEnv>,
  key: string | undefined,
): Promise<{ id: string; inserted: boolean }> {
  const { owner, admin, maxActiveJobs } = c.var.caller;
  const keyHash = key === undefined ? null : await sha256Hex(key);
  if (admin && keyHash === null) return { id: newJobId(), inserted: false };
  const limit = admin ? null : maxActiveJobs;
  const r = await jobIndex(c.env).reserve(owner, keyHash, newJobId(), limit);
  if (r.ok) return r;
  c.header('Retry-After', String(r.retryAfterS));
  throw new ApiError(
    'rate_limited',
    `this API key has ${r.active} active jobs, its maxActiveJobs; retry when one has ended`,
  );
}

export function jobIndex(env: Env) {
  return env.JOB_INDEX.getByName('all');
}
