import { describe, expect, it } from 'vitest';
import type { JobSpec, JobStatus } from '../../src/jobs/types';
import { readPriorRun, runSpec } from '../../src/schedules/prior-run';
import type { PendingRun } from '../../src/schedules/rows';

function pending(over: Partial<PendingRun> = {}): PendingRun {
  return {
    schedule_id: 's1',
    due_at: 0,
    attempts: 0,
    job: '{}',
    job_hash: '',
    owner: 'admin',
    last_job_id: null,
    compare: 1,
    notify: null,
    last_completed_job_id: null,
    ...over,
  };
}

/** Job views by id (absent: gone), recording which ids were read. */
function jobs(statuses: Record<string, JobStatus>) {
  const read: string[] = [];
  const viewOf = async (id: string) => {
    read.push(id);
    const status = statuses[id];
    return status === undefined ? null : { status };
  };
  return { read, viewOf };
}

describe('readPriorRun', () => {
  it('compares a first run with nothing', async () => {
    const { read, viewOf } = jobs({});
    expect(await readPriorRun(pending(), viewOf)).toEqual({
      busy: null,
      completed: null,
      compareWith: null,
    });
    expect(read).toEqual([]);
  });

  it('compares with the previous job when it completed, which becomes the last completed', async () => {
    const { read, viewOf } = jobs({ kprev: 'completed', kolder: 'completed' });
    const run = pending({ last_job_id: 'kprev', last_completed_job_id: 'kolder' });
    expect(await readPriorRun(run, viewOf)).toEqual({
      busy: null,
      completed: 'kprev',
      compareWith: 'kprev',
    });
    expect(read).toEqual(['kprev']);
  });

  it('skips while the previous job runs', async () => {
    for (const status of ['queued', 'running'] as const) {
      const { viewOf } = jobs({ kprev: status });
      const run = pending({ last_job_id: 'kprev', last_completed_job_id: 'kolder' });
      expect(await readPriorRun(run, viewOf)).toEqual({
        busy: `the previous run's job kprev is still ${status}`,
        completed: null,
        compareWith: null,
      });
    }
  });

  it('after a job that did not complete, compares with the last completed one while it exists', async () => {
    for (const status of ['failed', 'cancelled', 'timed_out'] as const) {
      const { viewOf } = jobs({ kprev: status, kolder: 'completed' });
      const run = pending({ last_job_id: 'kprev', last_completed_job_id: 'kolder' });
      expect(await readPriorRun(run, viewOf)).toEqual({
        busy: null,
        completed: null,
        compareWith: 'kolder',
      });
    }
    const gone = jobs({ kprev: 'cancelled' });
    const run = pending({ last_job_id: 'kprev', last_completed_job_id: 'kolder' });
    expect((await readPriorRun(run, gone.viewOf)).compareWith).toBeNull();
    expect(gone.read).toEqual(['kprev', 'kolder']);
  });

  it('does not compare with a last completed job that is gone, not reading it twice', async () => {
    const { read, viewOf } = jobs({});
    const run = pending({ last_job_id: 'kprev', last_completed_job_id: 'kprev' });
    expect(await readPriorRun(run, viewOf)).toEqual({
      busy: null,
      completed: null,
      compareWith: null,
    });
    expect(read).toEqual(['kprev']);
  });

  it('without compare, still learns the completed job but compares with none', async () => {
    const { read, viewOf } = jobs({ kprev: 'completed', kolder: 'completed' });
    const done = pending({ compare: 0, last_job_id: 'kprev' });
    expect(await readPriorRun(done, viewOf)).toEqual({
      busy: null,
      completed: 'kprev',
      compareWith: null,
    });
    const failed = jobs({ kprev: 'failed', kolder: 'completed' });
    const run = pending({ compare: 0, last_job_id: 'kprev', last_completed_job_id: 'kolder' });
    expect((await readPriorRun(run, failed.viewOf)).compareWith).toBeNull();
    expect(failed.read).toEqual(['kprev']);
    expect(read).toEqual(['kprev']);
  });
});

describe('runSpec', () => {
  const template = { concurrency: 5, notify: 'always' } as JobSpec;

  it('sets compareWith only for a compare schedule, and notify only when the schedule sets it', () => {
    expect(runSpec(template, pending({ compare: 1 }), 'kprev')).toEqual({
      concurrency: 5,
      notify: 'always',
      compareWith: 'kprev',
    });
    expect(runSpec(template, pending({ compare: 1 }), null)).toMatchObject({ compareWith: null });
    const fixed = { ...template, compareWith: 'kfixed' };
    expect(runSpec(fixed, pending({ compare: 0 }), null)).toEqual(fixed);
    expect(runSpec(template, pending({ compare: 0, notify: 'changes' }), null)).toEqual({
      concurrency: 5,
      notify: 'changes',
    });
    expect(template).toEqual({ concurrency: 5, notify: 'always' });
  });
});
