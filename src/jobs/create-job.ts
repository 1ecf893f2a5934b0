import type { CreateOutcome, NewJob } from './types';

/**
 * Creates a job the one way every job is created (POST /v1/jobs and schedules alike): one RPC
 * to the job's coordinator, then an entry in the job index. Repeating it with the same id and
 * body hash returns the existing job and indexes nothing twice.
 */
export async function createJob(env: Env, job: NewJob): Promise<CreateOutcome> {
  const created = await env.JOB_COORDINATOR.getByName(job.id).create(job);
  if (created.kind === 'conflict') return created;
  await env.JOB_INDEX.getByName('all').add(
    job.id,
    Date.parse(created.view.createdAt),
    created.accepted,
    job.owner,
  );
  return created;
}
