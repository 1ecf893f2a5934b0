// Schedules that compare each run with the last completed one (`compare`) and send callbacks
// only on a change (`notify`), through the worker: POST/GET /v1/schedules and cron ticks.
import { afterEach, describe, expect, it } from 'vitest';
import type { JobChanges } from '../../src/jobs/types';
import { allResults, api, getJob, origin, tag, waitForJob } from '../support/api';
import { docChecker } from '../support/openapi';
import {
  createSchedule,
  cronTick,
  deleteCreatedSchedules,
  expectInvalid,
  getSchedule,
  listIds,
  MINUTE,
} from '../support/schedules';
import { until } from '../support/time';

afterEach(deleteCreatedSchedules);

const unchanged = (n: number): JobChanges => ({ changed: 0, unchanged: n, new: 0, gone: 0 });

/** Callbacks the origin's `/hook` received for tag `t`. */
async function hooks(t: string): Promise<number> {
  return ((await (await fetch(origin(`/__hooks?tag=${t}`))).json()) as unknown[]).length;
}

/** Per `/versioned/` path, what the origin received and answered for tag `t`. */
async function conditionalStats(t: string) {
  const res = await fetch(origin(`/__stats?tag=${t}`));
  type Counts = { ifNoneMatch: number; notModified: number; ok: number };
  return (await res.json<{ conditional: Record<string, Counts> }>()).conditional;
}

/** Ticks at `dueAt` and answers the job that run started. */
async function startRun(scheduleId: string, dueAt: number): Promise<string> {
  await cronTick(dueAt);
  const run = (await getSchedule(scheduleId)).runs.find(
    (r) => r.dueAt === new Date(dueAt).toISOString(),
  );
  expect(run, `the run due at ${new Date(dueAt).toISOString()}`).toMatchObject({
    status: 'started',
  });
  return run?.jobId ?? '';
}

describe('POST /v1/schedules with compare and notify', () => {
  it('shows compare (default false) and notify (default null) on the schedule', async () => {
    const job = { urls: [origin('/text')] };
    const plain = await createSchedule({ name: 'plain', cron: '0 0 * * *', job });
    expect(plain).toMatchObject({ compare: false, notify: null });
    const s = await createSchedule({
      name: 'watch',
      cron: '0 0 * * *',
      job,
      compare: true,
      notify: 'changes',
    });
    expect(s).toMatchObject({ compare: true, notify: 'changes' });
    expect(await getSchedule(s.id)).toMatchObject({ compare: true, notify: 'changes', job });
    const list = (await (await api('/v1/schedules?limit=100')).json()) as {
      items: { id: string; compare: boolean; notify: string | null }[];
    };
    expect(list.items.find((i) => i.id === s.id)).toMatchObject({
      compare: true,
      notify: 'changes',
    });
  });

  it('rejects a non-boolean compare, an unknown notify, and compare with job.compareWith', async () => {
    const before = await listIds();
    const job = { urls: [origin('/text')] };
    const base = { name: 'x', cron: '* * * * *', job };
    await expectInvalid({ ...base, compare: 'true' }, 'compare');
    await expectInvalid({ ...base, compare: 1 }, 'compare');
    await expectInvalid({ ...base, notify: 'never' }, 'notify');
    await expectInvalid({ ...base, notify: null }, 'notify');
    const both = await expectInvalid(
      { ...base, compare: true, job: { ...job, compareWith: 'k000000000000000000000000' } },
      'job.compareWith',
    );
    expect(both.error.message).toBe('job.compareWith: give compare or job.compareWith, not both');
    expect(await listIds()).toEqual(before);
  });
});

describe('a schedule with compare: true', () => {
  it('compares its second run with the first and shows the changes in its run list', async () => {
    const t = tag('sched-compare');
    const urls = ['A', 'B', 'C'].map((title) => origin(`/page?title=${title}&links=1&tag=${t}`));
    const s = await createSchedule({
      name: 'compare',
      cron: '* * * * *',
      job: { urls, extract: { selectors: { heading: 'h1' } } },
      compare: true,
    });
    const due = Date.parse(s.nextRunAt ?? '');

    const first = await startRun(s.id, due);
    const one = await waitForJob(first);
    expect(one).toMatchObject({ status: 'completed', compareWith: null, changes: null });

    const second = await startRun(s.id, due + MINUTE);
    expect(second).not.toBe(first);
    const two = await waitForJob(second);
    expect(two).toMatchObject({ status: 'completed', compareWith: first });
    expect(two.changes).toEqual(unchanged(3));

    const shown = await getSchedule(s.id);
    expect(shown.runs.map((r) => [r.jobId, r.changes])).toEqual([
      [second, unchanged(3)],
      [first, null],
    ]);
  });
});

describe('a compare schedule over pages that change', () => {
  it("sends the first run's validators, finds the page that changed, and calls back on it", async () => {
    const t = tag('sched-versioned');
    const page = (name: string) => origin(`/versioned/${name}?tag=${t}`);
    const s = await createSchedule({
      name: 'versioned',
      cron: '* * * * *',
      job: { urls: ['a', 'b', 'c'].map(page), callbackUrl: origin(`/hook?tag=${t}`) },
      compare: true,
      notify: 'changes',
    });
    const due = Date.parse(s.nextRunAt ?? '');
    const first = await startRun(s.id, due);
    await waitForJob(first);
    // Not compared: the callback goes out.
    await until(async () => (await hooks(t)) === 1, 10_000, 'the first callback');

    const bumped = await fetch(origin(`/__version?name=b&tag=${t}`));
    expect(await bumped.json()).toEqual({ name: 'b', version: 2 });
    const second = await startRun(s.id, due + MINUTE);
    const two = await waitForJob(second);
    const changes: JobChanges = { changed: 1, unchanged: 2, new: 0, gone: 0 };
    expect(two).toMatchObject({ status: 'completed', compareWith: first, changes });
    const byUrl = Object.fromEntries(
      (await allResults(second)).map((r) => [r.url, [r.changed, r.notModified]]),
    );
    expect(byUrl).toEqual({
      [page('a')]: [false, true],
      [page('b')]: [true, false],
      [page('c')]: [false, true],
    });
    const conditional = await conditionalStats(t);
    expect(conditional['/versioned/b']).toMatchObject({ ifNoneMatch: 1, notModified: 0, ok: 2 });
    expect(conditional['/versioned/a']).toMatchObject({ ifNoneMatch: 1, notModified: 1, ok: 1 });
    // Something changed: the callback goes out again.
    await until(async () => (await hooks(t)) === 2, 10_000, 'the second callback');

    const shown = await getSchedule(s.id);
    expect(shown.runs.map((r) => [r.jobId, r.changes])).toEqual([
      [second, changes],
      [first, null],
    ]);
    // What the OpenAPI document says of the schedule and its runs holds for these answers.
    const doc = await docChecker();
    expect(doc.errorsFor('ScheduleView', s)).toBeNull();
    await doc.check('get', '/v1/schedules/{id}', await api(`/v1/schedules/${s.id}`));
  });
});

describe('a schedule without compare', () => {
  it('starts jobs that are not compared, their runs showing changes null', async () => {
    const s = await createSchedule({
      name: 'no compare',
      cron: '* * * * *',
      job: { urls: [origin(`/page?title=N&tag=${tag('no-compare')}`)] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    await waitForJob(await startRun(s.id, due));
    const second = await startRun(s.id, due + MINUTE);
    expect(await waitForJob(second)).toMatchObject({ compareWith: null, changes: null });
    expect((await getSchedule(s.id)).runs.map((r) => r.changes)).toEqual([null, null]);
    expect((await getJob(second)).compareWith).toBeNull();
  });
});
