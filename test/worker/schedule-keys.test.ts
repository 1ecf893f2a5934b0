// Schedules and API keys: a key reaches only its own schedules (another's answer 404), is held
// to MAX_SCHEDULES_PER_KEY and to its maxConcurrency, and owns the jobs its schedules start. A
// due run is skipped while the schedule's previous job has not ended.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/jobs/types';
import type { ScheduleView } from '../../src/schedules/types';
import { api, origin, originStats, tag, waitForJob } from '../support/api';
import { as, newKey } from '../support/keys';
import {
  created,
  createSchedule,
  cronTick,
  deleteCreatedSchedules,
  type Envelope,
  getSchedule,
  MINUTE,
} from '../support/schedules';
import { until } from '../support/time';

afterEach(deleteCreatedSchedules);

/** POSTs a schedule with a token; one that is created is deleted after the test. */
async function postAs(token: string, body: Record<string, unknown>): Promise<Response> {
  const res = await as(token, '/v1/schedules', { method: 'POST', body: JSON.stringify(body) });
  if (res.status === 201) created.add(((await res.clone().json()) as ScheduleView).id);
  return res;
}

async function scheduleAs(token: string, body: Record<string, unknown>): Promise<ScheduleView> {
  const res = await postAs(token, body);
  const json = (await res.json()) as ScheduleView;
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

/** The first page (up to 100) of the schedules a token lists: the admin's when `token` is null. */
async function listAs(token: string | null, cursor = ''): Promise<ScheduleView[]> {
  const path = `/v1/schedules?limit=100${cursor && `&cursor=${cursor}`}`;
  const res = token ? await as(token, path) : await api(path);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: ScheduleView[] }).items;
}

async function jobIdsOf(token: string): Promise<string[]> {
  const res = await as(token, '/v1/jobs?limit=100');
  return ((await res.json()) as { items: JobView[] }).items.map((j) => j.id);
}

const daily = (name: string) => ({ name, cron: '0 0 * * *', job: { urls: [origin('/text')] } });

describe('schedules belong to the caller that created them', () => {
  it('a key sees only its own: 404 on another’s for GET and DELETE; the admin sees all, with owner', async () => {
    const a = await newKey({ name: 'schedules a' });
    const b = await newKey({ name: 'schedules b' });
    const sa = await scheduleAs(a.token, daily('of a'));
    const sb = await scheduleAs(b.token, daily('of b'));
    const sAdmin = await createSchedule(daily('of the admin'));
    expect([sa.owner, sb.owner, sAdmin.owner]).toEqual([a.id, b.id, 'admin']);
    expect(await listAs(a.token)).toEqual([sa]);
    expect(await listAs(b.token)).toEqual([sb]);

    // Another's schedule answers exactly as one that does not exist.
    for (const id of [sb.id, sAdmin.id]) {
      for (const method of ['GET', 'DELETE']) {
        const res = await as(a.token, `/v1/schedules/${id}`, { method });
        expect(res.status, `${method} ${id}`).toBe(404);
        expect(await res.json()).toEqual({
          error: { code: 'not_found', message: `no schedule ${id}` },
        });
      }
    }
    const shownToB = await as(b.token, `/v1/schedules/${sb.id}`);
    expect(((await shownToB.json()) as ScheduleView).owner).toBe(b.id);

    const all = await listAs(null);
    const owners = new Map(all.map((s) => [s.id, s.owner]));
    expect([sa.id, sb.id, sAdmin.id].map((id) => owners.get(id))).toEqual([a.id, b.id, 'admin']);
    expect((await getSchedule(sa.id)).owner).toBe(a.id);

    const del = await as(a.token, `/v1/schedules/${sa.id}`, { method: 'DELETE' });
    expect(await del.json()).toEqual({ id: sa.id, deleted: true });
    created.delete(sa.id);
    expect((await api(`/v1/schedules/${sa.id}`)).status).toBe(404);
    expect(await listAs(b.token)).toEqual([sb]);
  });

  it('the jobs a key’s schedule starts belong to that key', async () => {
    const a = await newKey({ name: 'scheduled jobs a' });
    const b = await newKey({ name: 'scheduled jobs b' });
    const t = tag('owned');
    const s = await scheduleAs(a.token, {
      name: 'owned',
      cron: '* * * * *',
      job: { urls: [origin(`/page?title=Owned&links=0&tag=${t}`)] },
    });
    await cronTick(Date.parse(s.nextRunAt ?? ''));
    const shown = (await (await as(a.token, `/v1/schedules/${s.id}`)).json()) as {
      runs: { status: string; jobId: string }[];
    };
    expect(shown.runs.map((r) => r.status)).toEqual(['started']);
    const jobId = shown.runs[0]?.jobId ?? '';
    const view = await waitForJob(jobId);
    expect([view.owner, view.status]).toEqual([a.id, 'completed']);
    expect(((await (await as(a.token, `/v1/jobs/${jobId}`)).json()) as JobView).owner).toBe(a.id);
    expect(await jobIdsOf(a.token)).toEqual([jobId]);
    expect((await as(b.token, `/v1/jobs/${jobId}`)).status).toBe(404);
    expect(await jobIdsOf(b.token)).toEqual([]);
    // Another key's DELETE leaves the schedule and its run history as they were.
    expect((await as(b.token, `/v1/schedules/${s.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await getSchedule(s.id)).runs.map((r) => r.jobId)).toEqual([jobId]);
  });
});

describe('limits of a key’s schedules', () => {
  it('MAX_SCHEDULES_PER_KEY: creations past it are a 409 naming the limit, and create nothing', async () => {
    const cap = Number(env.MAX_SCHEDULES_PER_KEY);
    expect(cap).toBe(100);
    const key = await newKey({ name: 'many schedules' });
    const body = { name: 'n', cron: '0 0 1 1 *', job: { urls: [origin('/text')] } };
    // All at once: the count and the insert are one step, so exactly `cap` get in.
    const answers = await Promise.all(
      Array.from({ length: cap + 3 }, () => postAs(key.token, body)),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(cap);
    expect(statuses.filter((s) => s === 409)).toHaveLength(3);
    const refused = answers.find((r) => r.status === 409);
    expect(await refused?.json()).toEqual({
      error: {
        code: 'conflict',
        message: `this API key already holds ${cap} schedules (MAX_SCHEDULES_PER_KEY is ${cap}); delete one first`,
      },
    });
    const listed = await listAs(key.token);
    expect(listed).toHaveLength(cap);
    const last = listed.at(-1);
    const cursor = btoa(`${Date.parse(last?.createdAt ?? '')}.${last?.id}`);
    expect(await listAs(key.token, cursor)).toEqual([]);

    // Another key is not held by this key's count.
    await scheduleAs((await newKey({ name: 'one schedule' })).token, body);
    // Deleting one makes room for one.
    const gone = listed[0]?.id ?? '';
    expect((await as(key.token, `/v1/schedules/${gone}`, { method: 'DELETE' })).status).toBe(200);
    created.delete(gone);
    await scheduleAs(key.token, body);
    expect((await postAs(key.token, body)).status).toBe(409);
  });

  it('the admin is not limited: it creates schedules past MAX_SCHEDULES_PER_KEY', async () => {
    const cap = Number(env.MAX_SCHEDULES_PER_KEY);
    // The admin's first `cap` schedules, stored directly: as many POSTs would only be slower.
    const stored = Array.from({ length: cap }, (_, i) => `s${String(i).padStart(21, '0')}`);
    await runInDurableObject(env.SCHEDULER.getByName('all'), (_o, state) => {
      for (const id of stored) {
        state.storage.sql.exec(
          `INSERT INTO schedules (id, owner, name, cron, job, job_hash, created_at, next_run_at)
           VALUES (?, 'admin', 'stored', '0 0 1 1 *', '{}', '', 0, NULL)`,
          id,
        );
      }
    });
    for (const id of stored) created.add(id);
    const mine = await createSchedule(daily('past the cap'));
    expect(mine.owner).toBe('admin');
  });

  it('a job above the key’s maxConcurrency is a 400 naming job.concurrency and the limit', async () => {
    const key = await newKey({ name: 'narrow schedules', maxConcurrency: 5 });
    const message = 'at most 5 for this API key (its maxConcurrency)';
    // Left out, concurrency is 20 (the default of POST /v1/jobs): above 5 too.
    for (const job of [{ urls: [origin('/text')], concurrency: 6 }, { urls: [origin('/text')] }]) {
      const res = await postAs(key.token, { name: 'x', cron: '* * * * *', job });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Envelope).error).toEqual({
        code: 'invalid_request',
        message: `job.concurrency: ${message}`,
        details: [{ path: 'job.concurrency', message }],
      });
    }
    expect(await listAs(key.token)).toEqual([]);
    const ok = await scheduleAs(key.token, {
      name: 'x',
      cron: '* * * * *',
      job: { urls: [origin('/text')], concurrency: 5 },
    });
    expect(await listAs(key.token)).toEqual([ok]);
    // The admin has no such limit.
    await createSchedule({
      name: 'x',
      cron: '* * * * *',
      job: { urls: [origin('/text')], concurrency: 1000 },
    });
  });
});

describe('a run whose previous job has not ended is skipped', () => {
  it('records `skipped` and starts nothing while the job runs; the next due run after it ended starts one', async () => {
    const key = await newKey({ name: 'overlap' });
    const t = tag('overlap');
    const s = await scheduleAs(key.token, {
      name: 'slow',
      cron: '* * * * *',
      job: { urls: [origin(`/gate?tag=${t}`)] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    const at = (n: number) => new Date(due + n * MINUTE).toISOString();
    await cronTick(due);
    const first = (await getSchedule(s.id)).runs[0]?.jobId ?? '';
    await until(async () => (await originStats(t)).inFlight === 1, 10_000, 'the gated fetch');

    await cronTick(due + MINUTE);
    const during = await getSchedule(s.id);
    expect(during.runs.map((r) => [r.dueAt, r.status, r.jobId, r.error])).toEqual([
      [at(1), 'skipped', null, `the previous run's job ${first} is still running`],
      [at(0), 'started', first, null],
    ]);
    expect(during.nextRunAt).toBe(at(2));
    expect(await jobIdsOf(key.token)).toEqual([first]);
    expect((await originStats(t)).requests).toBe(1);

    await fetch(origin(`/__open?tag=${t}`));
    expect((await waitForJob(first)).status).toBe('completed');
    await cronTick(due + 2 * MINUTE);
    const after = await getSchedule(s.id);
    expect(after.runs.map((r) => [r.dueAt, r.status])).toEqual([
      [at(2), 'started'],
      [at(1), 'skipped'],
      [at(0), 'started'],
    ]);
    const second = after.runs[0]?.jobId ?? '';
    expect(second).not.toBe(first);
    expect((await waitForJob(second)).status).toBe('completed');
    expect(await jobIdsOf(key.token)).toEqual([second, first]);
    expect((await originStats(t)).requests).toBe(2);
  });

  it('a purged previous job counts as ended', async () => {
    const t = tag('purged');
    const s = await createSchedule({
      name: 'purged',
      cron: '* * * * *',
      job: { urls: [origin(`/gate?tag=${t}`)] },
    });
    const due = Date.parse(s.nextRunAt ?? '');
    await cronTick(due);
    const first = (await getSchedule(s.id)).runs[0]?.jobId ?? '';
    await until(async () => (await originStats(t)).inFlight === 1, 10_000, 'the gated fetch');
    expect((await api(`/v1/jobs/${first}?purge=true`, { method: 'DELETE' })).status).toBe(200);
    await cronTick(due + MINUTE);
    const runs = (await getSchedule(s.id)).runs;
    expect(runs.map((r) => [r.status, r.jobId === first])).toEqual([
      ['started', false],
      ['started', true],
    ]);
    await fetch(origin(`/__open?tag=${t}`));
    expect((await waitForJob(runs[0]?.jobId ?? '')).status).toBe('completed');
  });
});

describe('deleting an API key', () => {
  it('deletes its schedules too (nothing starts jobs in its name), and no one else’s', async () => {
    const doomed = await newKey({ name: 'schedules go with me' });
    const other = await newKey({ name: 'schedules stay' });
    const job = { urls: [origin('/page?title=K')] };
    const mine = await scheduleAs(doomed.token, { name: 'a', cron: '0 * * * *', job });
    const theirs = await scheduleAs(other.token, { name: 'b', cron: '0 * * * *', job });
    const del = await api(`/v1/keys/${doomed.id}`, { method: 'DELETE' });
    expect(await del.json()).toEqual({ id: doomed.id, deleted: true });
    expect((await api(`/v1/schedules/${mine.id}`)).status).toBe(404);
    expect((await api(`/v1/schedules/${theirs.id}`)).status).toBe(200);
  });
});
