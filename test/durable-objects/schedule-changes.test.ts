// Which job a `compare: true` schedule's run is compared with when earlier runs failed, were
// cancelled or purged: the schedule's job template is edited in the scheduler's storage between
// ticks to make a run fail or hang.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobChanges } from '../../src/jobs/types';
import { Sql } from '../../src/lib/sql';
import { SCHEDULER_MIGRATIONS } from '../../src/schedules/migrations';
import { api, getJob, origin, tag, waitForJob } from '../support/api';
import {
  createSchedule,
  cronTick,
  deleteCreatedSchedules,
  getSchedule,
  MINUTE,
} from '../support/schedules';
import { until } from '../support/time';

afterEach(deleteCreatedSchedules);

const scheduler = () => env.SCHEDULER.getByName('all');

/** Replaces the stored job template of a schedule (the body hash stays the original's). */
async function setTemplate(scheduleId: string, job: unknown): Promise<void> {
  await runInDurableObject(scheduler(), (_o, state) => {
    state.storage.sql.exec(
      'UPDATE schedules SET job = ? WHERE id = ?',
      JSON.stringify(job),
      scheduleId,
    );
  });
}

/** Runs the tick due at `dueAt` and answers that run's status and job. */
async function tickRun(scheduleId: string, dueAt: number) {
  await cronTick(dueAt);
  const runs = (await getSchedule(scheduleId)).runs;
  const run = runs.find((r) => r.dueAt === new Date(dueAt).toISOString());
  return { status: run?.status, jobId: run?.jobId ?? '' };
}

async function cancel(jobId: string): Promise<void> {
  expect((await api(`/v1/jobs/${jobId}`, { method: 'DELETE' })).status).toBe(200);
  expect((await waitForJob(jobId)).status).toBe('cancelled');
}

describe('a compare schedule after runs that did not complete', () => {
  it('compares with the last completed run, and with none once that job is purged', async () => {
    const t = tag('sched-last-completed');
    const job = { urls: ['A', 'B'].map((x) => origin(`/page?title=${x}&tag=${t}`)) };
    // The same pages and one that waits for a gate never opened: its job runs until cancelled.
    const hanging = { urls: [...job.urls, origin(`/gate?tag=${t}`)] };
    const s = await createSchedule({ name: 'last', cron: '* * * * *', job, compare: true });
    const due = Date.parse(s.nextRunAt ?? '');

    const run1 = await tickRun(s.id, due);
    expect(await waitForJob(run1.jobId)).toMatchObject({ status: 'completed', compareWith: null });

    // A run that fails before it has a job.
    await setTemplate(s.id, { urls: [] });
    expect(await tickRun(s.id, due + MINUTE)).toEqual({ status: 'failed', jobId: '' });

    // After the failed run: compared with the first run's job, which is still the previous one.
    await setTemplate(s.id, hanging);
    const run3 = await tickRun(s.id, due + 2 * MINUTE);
    expect((await getJob(run3.jobId)).compareWith).toBe(run1.jobId);
    await cancel(run3.jobId);

    // After the cancelled job: compared with the last completed one.
    await setTemplate(s.id, job);
    const run4 = await tickRun(s.id, due + 3 * MINUTE);
    const four = await waitForJob(run4.jobId);
    const same: JobChanges = { changed: 0, unchanged: 2, new: 0, gone: 0 };
    expect(four).toMatchObject({ status: 'completed', compareWith: run1.jobId, changes: same });

    // Compared with run 4's job while it exists; once it is purged, with nothing.
    await setTemplate(s.id, hanging);
    const run5 = await tickRun(s.id, due + 4 * MINUTE);
    expect((await getJob(run5.jobId)).compareWith).toBe(run4.jobId);
    await cancel(run5.jobId);
    const purge = await api(`/v1/jobs/${run4.jobId}?purge=true`, { method: 'DELETE' });
    expect(purge.status).toBe(200);
    await setTemplate(s.id, job);
    const run6 = await tickRun(s.id, due + 5 * MINUTE);
    expect(await waitForJob(run6.jobId)).toMatchObject({
      status: 'completed',
      compareWith: null,
      changes: null,
    });

    // The run list: each run's job's changes; null for no job, a purged job, no comparison.
    const runs = (await getSchedule(s.id)).runs;
    expect(runs.map((r) => [r.jobId, r.changes])).toEqual([
      [run6.jobId, null],
      [run5.jobId, (await getJob(run5.jobId)).changes],
      [run4.jobId, null],
      [run3.jobId, (await getJob(run3.jobId)).changes],
      [null, null],
      [run1.jobId, null],
    ]);
    expect(runs[1]?.changes).not.toBeNull();
  });

  it('does not compare the run after a cancelled first run', async () => {
    const t = tag('sched-first-cancelled');
    const job = { urls: [origin(`/page?title=F&tag=${t}`)] };
    const s = await createSchedule({
      name: 'first cancelled',
      cron: '* * * * *',
      job: { urls: [...job.urls, origin(`/gate?tag=${t}`)] },
      compare: true,
    });
    const due = Date.parse(s.nextRunAt ?? '');
    const run1 = await tickRun(s.id, due);
    await cancel(run1.jobId);
    await setTemplate(s.id, job);
    const run2 = await tickRun(s.id, due + MINUTE);
    expect(await waitForJob(run2.jobId)).toMatchObject({ compareWith: null, changes: null });
    const run3 = await tickRun(s.id, due + 2 * MINUTE);
    expect(await waitForJob(run3.jobId)).toMatchObject({
      compareWith: run2.jobId,
      changes: { changed: 0, unchanged: 1, new: 0, gone: 0 },
    });
  });
});

/** The stored spec's `notify` and the callback state of a job, read in its coordinator. */
function jobRow(jobId: string): Promise<{ notify: unknown; callback: string | null }> {
  return runInDurableObject(env.JOB_COORDINATOR.getByName(jobId), (_o, state) => {
    const row = state.storage.sql
      .exec<{ spec: string; callback_state: string | null }>('SELECT spec, callback_state FROM job')
      .one();
    const spec = JSON.parse(row.spec) as { notify?: unknown };
    return { notify: spec.notify, callback: row.callback_state };
  });
}

async function hookCount(t: string): Promise<number> {
  return ((await (await fetch(origin(`/__hooks?tag=${t}`))).json()) as unknown[]).length;
}

describe('a schedule with notify', () => {
  /** Two runs of the same static page: the second finds nothing changed. */
  async function twoRuns(notify: 'always' | 'changes', templateNotify: 'always' | 'changes') {
    const t = tag(`sched-notify-${notify}`);
    const s = await createSchedule({
      name: `notify ${notify}`,
      cron: '* * * * *',
      job: {
        urls: [origin(`/page?title=N&tag=${t}`)],
        callbackUrl: origin(`/hook?tag=${t}`),
        notify: templateNotify,
      },
      compare: true,
      notify,
    });
    const due = Date.parse(s.nextRunAt ?? '');
    const run1 = await tickRun(s.id, due);
    await waitForJob(run1.jobId);
    await until(async () => (await jobRow(run1.jobId)).callback === 'delivered', 10_000, 'hook');
    const run2 = await tickRun(s.id, due + MINUTE);
    const two = await waitForJob(run2.jobId);
    expect(two.changes).toEqual({ changed: 0, unchanged: 1, new: 0, gone: 0 });
    return { t, first: await jobRow(run1.jobId), second: run2.jobId };
  }

  it('"changes": the first run (not compared) calls back, an unchanged second run does not', async () => {
    const { t, first, second } = await twoRuns('changes', 'always');
    expect(first).toEqual({ notify: 'changes', callback: 'delivered' });
    // Ended without a callback due: none is ever sent for it.
    expect(await jobRow(second)).toEqual({ notify: 'changes', callback: null });
    expect(await hookCount(t)).toBe(1);
  });

  it('"always" overrides the template\'s "changes": the unchanged second run calls back too', async () => {
    const { t, second } = await twoRuns('always', 'changes');
    await until(async () => (await jobRow(second)).callback === 'delivered', 10_000, 'hook');
    expect((await jobRow(second)).notify).toBe('always');
    expect(await hookCount(t)).toBe(2);
  });
});

describe('the migration that adds compare and notify', () => {
  it('leaves existing schedules uncompared, with the job template’s notify', async () => {
    const fresh = env.SCHEDULER.getByName(`migration-${crypto.randomUUID()}`);
    const rows = await runInDurableObject(fresh, (_o, state) => {
      const raw = state.storage.sql;
      raw.exec('DROP TABLE schedules; DROP TABLE runs; DELETE FROM _migrations;');
      const sql = new Sql(raw);
      sql.migrate(SCHEDULER_MIGRATIONS.slice(0, 2));
      raw.exec(
        "INSERT INTO schedules (id, name, cron, job, job_hash, created_at, last_job_id) VALUES ('s1', 'n', '* * * * *', '{}', '', 0, 'kdone')",
      );
      sql.migrate(SCHEDULER_MIGRATIONS);
      return raw
        .exec('SELECT id, compare, notify, last_job_id, last_completed_job_id FROM schedules')
        .toArray();
    });
    expect(rows).toEqual([
      { id: 's1', compare: 0, notify: null, last_job_id: 'kdone', last_completed_job_id: null },
    ]);
  });
});
