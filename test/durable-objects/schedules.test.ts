// The scheduler driven directly: ticks by RPC, and runs and schedules edited in its storage.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { RUNS_KEPT } from '../../durable-objects/scheduler';
import { Sql } from '../../src/lib/sql';
import { SCHEDULER_MIGRATIONS } from '../../src/schedules/migrations';
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

describe('a schedule never has two jobs running', () => {
  it(`keeps skipping while the previous job runs, after ${RUNS_KEPT} skips pruned its run`, async () => {
    const t = tag('long');
    const s = await createSchedule({
      name: 'long',
      cron: '* * * * *',
      job: { urls: [origin(`/gate?tag=${t}`)] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    const first = (await scheduler().tick(due)).runs.find((r) => r.scheduleId === s.id);
    expect(first?.status).toBe('started');
    for (let i = 1; i <= RUNS_KEPT + 1; i++) await scheduler().tick(due + i * MINUTE);
    const shown = await getSchedule(s.id);
    // The started run fell out of the history; the job it started still holds the schedule.
    expect(shown.runs).toHaveLength(RUNS_KEPT);
    expect(new Set(shown.runs.map((r) => r.status))).toEqual(new Set(['skipped']));
    expect((await originStats(t)).requests).toBe(1);
    await fetch(origin(`/__open?tag=${t}`));
    expect((await waitForJob(first?.jobId ?? '')).status).toBe('completed');
    const next = await scheduler().tick(due + (RUNS_KEPT + 2) * MINUTE);
    const run = next.runs.find((r) => r.scheduleId === s.id);
    expect(run?.status).toBe('started');
    await waitForJob(run?.jobId ?? '');
  });

  it('starts one run of a schedule per tick: a later pending run waits and is judged by its job', async () => {
    const t = tag('two-pending');
    const s = await createSchedule({
      name: 'two pending',
      cron: '* * * * *',
      job: { urls: [origin(`/gate?tag=${t}`)] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    // A run of the minute before, left pending by a failed start, is retried with this one.
    await runInDurableObject(scheduler(), (_o, state) => {
      state.storage.sql.exec(
        "INSERT INTO runs (schedule_id, due_at, status, attempts) VALUES (?, ?, 'pending', 1)",
        s.id,
        due - MINUTE,
      );
    });
    const report = await scheduler().tick(due);
    const mine = report.runs.filter((r) => r.scheduleId === s.id);
    expect(mine.map((r) => [r.dueAt, r.status])).toEqual([
      [new Date(due - MINUTE).toISOString(), 'started'],
    ]);
    const later = await scheduler().tick(due + 1_000);
    expect(later.runs.filter((r) => r.scheduleId === s.id).map((r) => [r.dueAt, r.status])).toEqual(
      [[new Date(due).toISOString(), 'skipped']],
    );
    expect((await originStats(t)).requests).toBe(1);
    await fetch(origin(`/__open?tag=${t}`));
    await waitForJob(mine[0]?.jobId ?? '');
  });
});

describe('the migration that gives schedules an owner', () => {
  it('makes existing schedules the admin’s and remembers the job of each one’s latest start', async () => {
    const fresh = env.SCHEDULER.getByName(`migration-${crypto.randomUUID()}`);
    const rows = await runInDurableObject(fresh, (_o, state) => {
      const raw = state.storage.sql;
      // Back to the database as the first migration left it.
      raw.exec('DROP TABLE schedules; DROP TABLE runs; DELETE FROM _migrations;');
      const sql = new Sql(raw);
      sql.migrate(SCHEDULER_MIGRATIONS.slice(0, 1));
      for (const id of ['s1', 's2']) {
        raw.exec(
          "INSERT INTO schedules (id, name, cron, job, job_hash, created_at) VALUES (?, 'n', '* * * * *', '{}', '', 0)",
          id,
        );
      }
      const runs: [string, number, string, string | null][] = [
        ['s1', 1, 'started', 'kolder'],
        ['s1', 2, 'started', 'klatest'],
        ['s1', 3, 'failed', null],
        ['s2', 1, 'failed', null],
      ];
      for (const run of runs) {
        raw.exec(
          'INSERT INTO runs (schedule_id, due_at, status, job_id) VALUES (?, ?, ?, ?)',
          ...run,
        );
      }
      sql.migrate(SCHEDULER_MIGRATIONS);
      return raw.exec('SELECT id, owner, last_job_id FROM schedules ORDER BY id').toArray();
    });
    expect(rows).toEqual([
      { id: 's1', owner: 'admin', last_job_id: 'klatest' },
      { id: 's2', owner: 'admin', last_job_id: null },
    ]);
  });
});
