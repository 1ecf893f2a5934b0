// Schedules through the worker: the /v1/schedules API, and a due schedule started by the
// worker's own scheduled() handler.
import { afterEach, describe, expect, it } from 'vitest';
import type { ScheduleView } from '../../src/schedules/types';
import { allResults, api, origin, originStats, tag, waitForJob } from '../support/api';
import {
  created,
  createSchedule,
  cronTick,
  deleteCreatedSchedules,
  type Envelope,
  expectInvalid,
  getSchedule,
  listIds,
  MINUTE,
} from '../support/schedules';
import { until } from '../support/time';

afterEach(deleteCreatedSchedules);

describe('POST/GET/DELETE /v1/schedules', () => {
  it('creates a schedule whose first run is the next whole minute, lists, shows and deletes it', async () => {
    const before = Date.now();
    const job = { urls: [origin('/text')], concurrency: 2 };
    const s = await createSchedule({ name: 'nightly', cron: '* * * * *', job });
    const after = Date.now();
    expect(s).toMatchObject({ name: 'nightly', cron: '* * * * *' });
    expect(s.id).toMatch(/^s[0-9a-z]{21}$/);
    const createdAt = Date.parse(s.createdAt);
    expect(createdAt).toBeGreaterThanOrEqual(before);
    expect(createdAt).toBeLessThanOrEqual(after);
    // The first whole minute strictly after its creation.
    const next = Date.parse(s.nextRunAt ?? '');
    expect(next).toBe(Math.floor(createdAt / MINUTE) * MINUTE + MINUTE);

    expect(await listIds()).toContain(s.id);
    const shown = await getSchedule(s.id);
    expect(shown).toMatchObject({ id: s.id, name: 'nightly', nextRunAt: s.nextRunAt, runs: [] });
    expect(shown.job).toEqual(job);

    const del = await api(`/v1/schedules/${s.id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id: s.id, deleted: true });
    created.delete(s.id);
    expect((await api(`/v1/schedules/${s.id}`)).status).toBe(404);
    // Deleting is final: a second DELETE finds nothing to delete.
    const again = await api(`/v1/schedules/${s.id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(((await again.json()) as Envelope).error.code).toBe('not_found');
    expect(await listIds()).not.toContain(s.id);
  });

  it('normalises the cron spacing and trims the name', async () => {
    const s = await createSchedule({
      name: '  weekdays  ',
      cron: ' 0  9 * *  mon-fri ',
      job: { urls: [origin('/text')] },
    });
    expect(s).toMatchObject({ name: 'weekdays', cron: '0 9 * * mon-fri' });
    const next = new Date(s.nextRunAt ?? '');
    expect(next.getUTCHours()).toBe(9);
    expect(next.getUTCMinutes()).toBe(0);
    expect([1, 2, 3, 4, 5]).toContain(next.getUTCDay());
  });

  it('pages through the list newest first with a cursor', async () => {
    const made: ScheduleView[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await createSchedule({
        name: `p${i}`,
        cron: '0 0 * * *',
        job: { urls: [origin('/text')] },
      });
      made.push(created);
      // The list orders by createdAt, then id: the next schedule is created on a later
      // millisecond, so the order shows creation order, not the ids' random part.
      const createdAt = Date.parse(created.createdAt);
      await until(() => Date.now() > createdAt, 1_000, 'the clock to move on');
    }
    const times = made.map((m) => Date.parse(m.createdAt));
    expect(times).toEqual([...new Set(times)].sort((x, y) => x - y));
    const ids = made.map((m) => m.id);
    const first = (await (await api('/v1/schedules?limit=2')).json()) as {
      items: ScheduleView[];
      nextCursor: string | null;
    };
    expect(first.items.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    const second = (await (
      await api(`/v1/schedules?limit=2&cursor=${first.nextCursor}`)
    ).json()) as { items: ScheduleView[]; nextCursor: string | null };
    // The only other schedule: a page that is not full is the last one.
    expect(second.items.map((s) => s.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();
    expect((await api('/v1/schedules?cursor=zzz')).status).toBe(400);
    expect((await api('/v1/schedules?limit=0')).status).toBe(400);
  });

  it('rejects bad input with a 400 naming the field, and creates nothing', async () => {
    const before = await listIds();
    const job = { urls: [origin('/text')] };
    const badCron = await expectInvalid({ name: 'x', cron: '61 * * * *', job }, 'cron');
    expect(badCron.error.message).toMatch(/^cron: .*minute/);
    await expectInvalid({ name: 'x', cron: '* * * *', job }, 'cron');
    await expectInvalid({ name: 'x', cron: '0 0 31 2 *', job }, 'cron');
    await expectInvalid({ name: 'x', cron: '? * * * *', job }, 'cron');
    await expectInvalid({ name: 'x', job }, 'cron');

    const badUrl = await expectInvalid(
      { name: 'x', cron: '* * * * *', job: { urls: ['ftp://example.com/'] } },
      'job.urls[0]',
    );
    expect(badUrl.error.message).toMatch(/^job\.urls\[0\]: /);
    await expectInvalid({ name: 'x', cron: '* * * * *', job: { urls: [] } }, 'job.urls');
    await expectInvalid(
      { name: 'x', cron: '* * * * *', job: { urls: [origin('/text')], concurrency: 0 } },
      'job.concurrency',
    );
    const typo = await expectInvalid(
      { name: 'x', cron: '* * * * *', job: { urls: [origin('/text')], concurency: 5 } },
      'job.concurency',
    );
    expect(typo.error.message).toBe('job.concurency: unknown field');
    await expectInvalid({ name: 'x', cron: '* * * * *' }, 'job');
    await expectInvalid({ name: 'x', cron: '* * * * *', job: [] }, 'job');

    await expectInvalid({ cron: '* * * * *', job }, 'name');
    await expectInvalid({ name: '   ', cron: '* * * * *', job }, 'name');
    await expectInvalid({ name: 'x', cron: '* * * * *', job, extra: 1 }, '(body)');
    // Every problem is reported at once.
    const many = await expectInvalid({ cron: 'nope', job: { urls: ['x'] } }, 'name');
    expect(many.error.details?.map((d) => d.path)).toEqual(
      expect.arrayContaining(['name', 'cron', 'job.urls[0]']),
    );

    const notJson = await api('/v1/schedules', { method: 'POST', body: '{"name":' });
    expect(notJson.status).toBe(400);
    const wrongType = await api('/v1/schedules', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', cron: '* * * * *', job }),
      headers: { 'content-type': 'text/plain' },
    });
    expect(wrongType.status).toBe(415);
    expect(await listIds()).toEqual(before);
  });

  it('answers 401 without a valid token and creates nothing', async () => {
    const before = await listIds();
    const body = JSON.stringify({ name: 'x', cron: '* * * * *', job: { urls: [origin('/text')] } });
    const unauth = [
      await api('/v1/schedules', { method: 'POST', body, headers: { authorization: '' } }),
      await api('/v1/schedules', { method: 'POST', body, headers: { authorization: 'Bearer no' } }),
      await api('/v1/schedules', { headers: { authorization: 'Bearer no' } }),
      await api('/v1/schedules/s000000000000000000000', { headers: { authorization: '' } }),
      await api('/v1/schedules/s000000000000000000000', {
        method: 'DELETE',
        headers: { authorization: '' },
      }),
    ];
    for (const res of unauth) {
      expect(res.status).toBe(401);
      expect(((await res.json()) as Envelope).error.code).toBe('unauthorized');
    }
    expect(await listIds()).toEqual(before);
  });

  it('answers 404 for unknown and malformed ids', async () => {
    for (const id of ['s000000000000000000000', 'nope', 'j0000000000000000000000']) {
      const get = await api(`/v1/schedules/${id}`);
      expect(get.status).toBe(404);
      expect(((await get.json()) as Envelope).error.code).toBe('not_found');
      expect((await api(`/v1/schedules/${id}`, { method: 'DELETE' })).status).toBe(404);
    }
  });
});

describe('the cron trigger starts due schedules', () => {
  it('starts a real job at the due minute that completes, records the run and moves nextRunAt', async () => {
    const t = tag('sched');
    const s = await createSchedule({
      name: 'one page',
      cron: '* * * * *',
      job: { urls: [origin(`/page?title=Scheduled&links=2&tag=${t}`)], concurrency: 1 },
    });
    const due = Date.parse(s.nextRunAt ?? '');

    await cronTick(due - 1); // a minute that is not due yet starts nothing
    expect((await getSchedule(s.id)).runs).toEqual([]);

    const beforeTick = Date.now();
    await cronTick(due);
    const afterTick = Date.now();
    const after = await getSchedule(s.id);
    expect(after.nextRunAt).toBe(new Date(due + MINUTE).toISOString());
    expect(after.runs).toHaveLength(1);
    const run = after.runs[0];
    expect(run).toMatchObject({
      dueAt: new Date(due).toISOString(),
      status: 'started',
      attempts: 1,
      error: null,
    });
    // Started by this tick (the run is recorded once its job exists).
    const startedAt = Date.parse(run?.startedAt ?? '');
    expect(startedAt).toBeGreaterThanOrEqual(beforeTick);
    expect(startedAt).toBeLessThanOrEqual(afterTick);
    const jobId = run?.jobId ?? '';
    expect(jobId).toMatch(/^k[0-9a-f]{24}$/);

    const view = await waitForJob(jobId);
    expect(Date.parse(view.createdAt)).toBeGreaterThanOrEqual(beforeTick);
    expect(Date.parse(view.createdAt)).toBeLessThanOrEqual(startedAt);
    expect(view.status).toBe('completed');
    const results = await allResults(jobId);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ ok: true, title: 'Scheduled', links: 2 });
    expect((await originStats(t)).requests).toBe(1);
    // The job is an ordinary job: GET /v1/jobs lists it.
    const jobs = (await (await api('/v1/jobs?limit=100')).json()) as { items: { id: string }[] };
    expect(jobs.items.map((j) => j.id)).toContain(jobId);

    // The next minute starts the next run with another job.
    await cronTick(due + MINUTE);
    const later = await getSchedule(s.id);
    expect(later.runs.map((r) => r.dueAt)).toEqual([
      new Date(due + MINUTE).toISOString(),
      new Date(due).toISOString(),
    ]);
    expect(later.runs[0]?.jobId).not.toBe(jobId);
    expect(later.nextRunAt).toBe(new Date(due + 2 * MINUTE).toISOString());
    await waitForJob(later.runs[0]?.jobId ?? '');
  });
});
