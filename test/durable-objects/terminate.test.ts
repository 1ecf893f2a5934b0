// Ending a job of many chunks with the coordinator driven directly: calls between its chunks,
// and an ending cut off by a crash and finished by the alarm.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { allResults, api, waitForJob } from '../support/api';
import { expectConsistent, hangingJob, URLS } from '../support/hanging-job';

describe('ending a job of many chunks', () => {
  it('between chunks other calls are served: reads see it running, PATCH is refused, a second cancel waits', async () => {
    const { id } = await hangingJob(URLS, 6);
    const seen = await runInDurableObject(env.JOB_COORDINATOR.getByName(id), async (instance) => {
      const ending = instance.cancel();
      // The first chunk ran in cancel's own turn; the rest wait for later turns.
      const first = await instance.view();
      await scheduler.wait(0);
      const later = await instance.view();
      const page = await instance.results(0, 1_000);
      const patch = await instance.setDeadline(60_000);
      const second = instance.cancel();
      return { first, later, page, patch, end: await ending, second: await second };
    });
    for (const view of [seen.first, seen.later]) {
      expect(view?.status).toBe('running');
      expect(view?.finishedAt).toBeNull();
      if (view) expectConsistent(view, URLS);
    }
    expect(seen.first?.counts).toMatchObject({ inFlight: 0, cancelled: 50 });
    expect(seen.later?.counts.cancelled).toBeGreaterThan(50);
    expect(seen.later?.counts.cancelled).toBeLessThan(URLS);
    // Results written so far are readable, and the page does not claim the job is done.
    expect(seen.page?.terminal).toBe(false);
    expect(seen.page?.bodies.length).toBe(seen.later?.counts.cancelled);
    expect(seen.patch).toMatchObject({ ok: false, code: 'conflict' });
    expect(seen.end?.status).toBe('cancelled');
    expect(seen.second?.status).toBe('cancelled');
    expect(seen.end?.counts).toMatchObject({ cancelled: URLS, queued: 0, inFlight: 0 });
    expect(await allResults(id)).toHaveLength(URLS);
    expect(
      (await api(`/v1/jobs/${id}`, { method: 'PATCH', body: '{"deadlineMs": 1}' })).status,
    ).toBe(409);
  });

  it('an ending cut off by a crash is finished by the alarm, with its own status', async () => {
    const { id, urls } = await hangingJob(URLS, 6);
    // A stub breaks with the object it reached, so each use takes a fresh one.
    const stub = () => env.JOB_COORDINATOR.getByName(id);
    const atCrash: { ending?: string | null; results?: number } = {};
    // The deadline is moved into the past; after two chunks the object dies mid-ending.
    await expect(
      runInDurableObject(stub(), async (instance, state) => {
        void instance.setDeadline(1);
        await scheduler.wait(0);
        const sql = state.storage.sql;
        atCrash.ending = sql.exec<{ ending: string | null }>('SELECT ending FROM job').one().ending;
        atCrash.results = sql.exec<{ n: number }>('SELECT count(*) AS n FROM results').one().n;
        state.abort('crash mid-ending');
      }),
    ).rejects.toThrow(/crash mid-ending/);
    expect(JSON.parse(atCrash.ending ?? 'null')).toMatchObject({
      status: 'timed_out',
      kind: 'deadline',
    });
    expect(atCrash.results).toBeGreaterThan(0);
    expect(atCrash.results).toBeLessThan(URLS);

    // The restarted object refuses the dead ending's shards and finishes through its alarm.
    await runDurableObjectAlarm(stub());
    const view = await waitForJob(id, 10_000);
    expect(view.status).toBe('timed_out');
    expect(Date.parse(view.deadlineAt ?? '') - Date.parse(view.createdAt)).toBe(1);
    expect(view.counts).toMatchObject({ total: URLS, cancelled: URLS, queued: 0, inFlight: 0 });
    const results = await allResults(id);
    expect(results).toHaveLength(URLS);
    expect(new Set(results.map((r) => r.url))).toEqual(new Set(urls));
    expect(results.every((r) => r.error?.kind === 'deadline')).toBe(true);
    const marker = await runInDurableObject(stub(), (_o, state) =>
      state.storage.sql.exec<{ ending: string | null }>('SELECT ending FROM job').one(),
    );
    expect(marker.ending).toBeNull();
  });
});
