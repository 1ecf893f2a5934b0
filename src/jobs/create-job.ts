import type { CreateResult } from '../../durable-objects/job-coordinator';
import type { JobSpec, JobView } from './types';

/** A validated job ready to be stored under its id (the `ok` side of `parseJob`). */
export interface NewJob {
  id: string;
  spec: JobSpec;
  urls: string[];
  norms: string[];
  /** SHA-256 of the body it came from: the same id with another body is a conflict. */
  bodyHash: string;
}

export type CreateJobOutcome =
  | { kind: 'created' | 'existing'; view: JobView; accepted: number; duplicates: number }
  | { kind: 'conflict'; message: string };

/**
 * Creates a job the one way every job is created (POST /v1/jobs and schedules alike): one RPC
 * to the job's coordinator, then an entry in the job index. Repeating it with the same id and
 * body hash returns the existing job and indexes nothing twice.
 */
export async function createJob(env: Env, job: NewJob): Promise<CreateJobOutcome> {
  const created: CreateResult = await env.JOB_COORDINATOR.getByName(job.id).create({
    jobId: job.id,
    spec: job.spec,
    urls: job.urls,
    norms: job.norms,
    bodyHash: job.bodyHash,
  });
  if (created.kind === 'conflict') return { kind: 'conflict', message: created.message };
  await env.JOB_INDEX.getByName('all').add(
    job.id,
    Date.parse(created.view.createdAt),
    created.accepted,
  );
  return {
    kind: created.kind,
    view: created.view,
    accepted: created.accepted,
    duplicates: created.duplicates,
  };
}
