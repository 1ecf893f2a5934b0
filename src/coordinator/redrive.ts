import type { ErrorKind, JobSpec } from '../jobs/types';
import type { Job } from './job';

/** Redrives one job may have: each is a user's request, and its view lists them all. */
export const MAX_REDRIVES = 100;

/** What a redrive takes from its source job, or why it cannot. */
export type RedriveSource =
  | { ok: true; spec: JobSpec; urls: string[]; norms: string[] }
  | { ok: false; code: 'not_found' | 'conflict'; message: string };

/**
 * The spec and the URLs a redrive of `job` takes: those whose Result is not ok (of `kinds`
 * only, when given), in submission order. Refused while the job runs, when it has nothing to
 * redrive, and past MAX_REDRIVES.
 */
export function redriveSource(job: Job | null, kinds: readonly ErrorKind[] | null): RedriveSource {
  if (!job) return { ok: false, code: 'not_found', message: 'no such job' };
  const { record } = job;
  if (!record.terminal) {
    const message = `the job is ${record.status}: redrive it once it has ended`;
    return { ok: false, code: 'conflict', message };
  }
  if (record.redrives.length >= MAX_REDRIVES) {
    const message = `the job was redriven ${MAX_REDRIVES} times already: redrive its last redrive`;
    return { ok: false, code: 'conflict', message };
  }
  const rows = job.store.unsuccessful(kinds);
  if (rows.length === 0) {
    const which = kinds ? ` of kind ${kinds.join(', ')}` : '';
    return { ok: false, code: 'conflict', message: `nothing to redrive: no failed Result${which}` };
  }
  const { redriveOf: _source, ...spec } = record.spec;
  return { ok: true, spec, urls: rows.map((r) => r.url), norms: rows.map((r) => r.norm) };
}
