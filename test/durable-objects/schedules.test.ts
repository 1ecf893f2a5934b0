// The scheduler driven directly: ticks by RPC, and runs and schedules edited in its storage.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { RUNS_KEPT } from '../../durable-objects/scheduler';
import { api, origin, originStats, tag, waitForJob } from '../support/api';
import {
  created,
  createSchedule,
  cronTick,
  deleteCreatedSchedules,
  getSchedule,
  MINUTE,
} from '../support/schedules';

afterEach(deleteCreatedSchedules);

const scheduler = () => env.SCHEDULER.getByName('all');

describe('the cron trigger starts due schedules', () => {
  it('creates one job per due minute however often that minute is ticked', async () => {
    const t = tag('double');
    const s = await createSchedule({
      name: 'double',
      cron: '* * * * *',
      job: { urls: [origin(`/page?title=D&links=0&tag=${t}`)] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    // A doubled trigger (concurrently), a retried one, and a late one within the same minute.
    await Promise.all([cronTick(due), cronTick(due), scheduler().tick(due)]);
    await cronTick(due);
    await cronTick(due + 30_000);
    const shown = await getSchedule(s.id);
    expect(shown.runs).toHaveLength(1);
    const jobId = shown.runs[0]?.jobId ?? '';
    await waitForJob(jobId);
    expect((await originStats(t)).requests).toBe(1);
    expect(shown.nextRunAt).toBe(new Date(due + MINUTE).toISOString());
  });

  it('runs once on catch-up after missed minutes, for the latest due time', async () => {
    const t = tag('catchup');
    const s = await createSchedule({
      name: 'catch-up',
      cron: '*/5 * * * *',
      job: { urls: [origin(`/page?title=C&links=0&tag=${t}`)] },
    });
    const first = Date.parse(s.nextRunAt ?? '');
    // Down for 23 minutes: five due times were missed; the trigger comes back 23 minutes late.
    const back = first + 23 * MINUTE;
    const report = await scheduler().tick(back);
    const mine = report.runs.filter((r) => r.scheduleId === s.id);
    expect(mine).toHaveLength(1);
    const latest = first + 20 * MINUTE;
    expect(mine[0]).toMatchObject({ status: 'started', dueAt: new Date(latest).toISOString() });
    const shown = await getSchedule(s.id);
    expect(shown.runs).toHaveLength(1);
    expect(shown.nextRunAt).toBe(new Date(first + 25 * MINUTE).toISOString());
    await waitForJob(mine[0]?.jobId ?? '');
    expect((await originStats(t)).requests).toBe(1);
  });

  it('restarts a run left pending by a crash without creating a second job', async () => {
    const t = tag('crash');
    const s = await createSchedule({
      name: 'crash',
      cron: '* * * * *',
      job: { urls: [origin(`/page?title=X&links=0&tag=${t}`)] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    await cronTick(due);
    const jobId = (await getSchedule(s.id)).runs[0]?.jobId ?? '';
    await waitForJob(jobId);
    // As if the scheduler died after creating the job but before recording the run.
    await runInDurableObject(scheduler(), (_o, state) => {
      state.storage.sql.exec(
        "UPDATE runs SET status = 'pending', job_id = NULL, started_at = NULL, attempts = 0 WHERE schedule_id = ?",
        s.id,
      );
    });
    expect((await getSchedule(s.id)).runs[0]).toMatchObject({ status: 'pending', jobId: null });
    await cronTick(due + 10_000);
    const shown = await getSchedule(s.id);
    expect(shown.runs).toHaveLength(1);
    expect(shown.runs[0]).toMatchObject({ status: 'started', jobId });
    expect(shown.nextRunAt).toBe(new Date(due + MINUTE).toISOString());
    const jobs = (await (await api('/v1/jobs?limit=100')).json()) as { items: { id: string }[] };
    expect(jobs.items.filter((j) => j.id === jobId)).toHaveLength(1);
    expect((await originStats(t)).requests).toBe(1);
  });

  it('records a failed run, with the reason, when the job is no longer valid', async () => {
    const s = await createSchedule({
      name: 'broken',
      cron: '* * * * *',
      job: { urls: [origin('/text')] },
    });
    // E.g. MAX_URLS_PER_JOB was lowered after the schedule was saved.
    await runInDurableObject(scheduler(), (_o, state) => {
      state.storage.sql.exec(`UPDATE schedules SET job = '{"urls": []}' WHERE id = ?`, s.id);
    });
    const due = Date.parse(s.nextRunAt ?? '');
    await cronTick(due);
    const shown = await getSchedule(s.id);
    expect(shown.runs[0]).toMatchObject({
      status: 'failed',
      jobId: null,
      error: 'job.urls: at least one URL is required',
    });
    expect(shown.nextRunAt).toBe(new Date(due + MINUTE).toISOString());
  });

  it(`keeps the last ${RUNS_KEPT} runs of a schedule`, async () => {
    const s = await createSchedule({
      name: 'history',
      cron: '* * * * *',
      job: { urls: [origin('/text')] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    await runInDurableObject(scheduler(), (_o, state) => {
      for (let i = 1; i <= RUNS_KEPT + 5; i++) {
        state.storage.sql.exec(
          "INSERT INTO runs (schedule_id, due_at, status, job_id, attempts) VALUES (?, ?, 'started', 'kold', 1)",
          s.id,
          due - i * MINUTE,
        );
      }
    });
    await cronTick(due);
    const shown = await getSchedule(s.id);
    expect(shown.runs).toHaveLength(RUNS_KEPT);
    expect(shown.runs[0]?.dueAt).toBe(new Date(due).toISOString());
    expect(shown.runs.at(-1)?.dueAt).toBe(new Date(due - (RUNS_KEPT - 1) * MINUTE).toISOString());
    const stored = await runInDurableObject(
      scheduler(),
      (_o, state) =>
        state.storage.sql
          .exec<{ n: number }>('SELECT count(*) AS n FROM runs WHERE schedule_id = ?', s.id)
          .one().n,
    );
    expect(stored).toBe(RUNS_KEPT);
    await waitForJob(shown.runs[0]?.jobId ?? '');
  });

  it('deleting a schedule stops its runs and leaves its jobs alone', async () => {
    const s = await createSchedule({
      name: 'stop',
      cron: '* * * * *',
      job: { urls: [origin('/text')] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    await cronTick(due);
    const jobId = (await getSchedule(s.id)).runs[0]?.jobId ?? '';
    expect((await api(`/v1/schedules/${s.id}`, { method: 'DELETE' })).status).toBe(200);
    created.delete(s.id);
    const report = await scheduler().tick(due + MINUTE);
    expect(report.runs.filter((r) => r.scheduleId === s.id)).toEqual([]);
    expect((await waitForJob(jobId)).status).toBe('completed');
  });
});
