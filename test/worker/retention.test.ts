// Retention (run with JOB_RETENTION_SECONDS=1, project `retention` of vitest.config.ts): a job
// is deleted by its own coordinator's alarm once it has been terminal that long.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, origin, submit, tag, waitForJob } from '../support/api';
import { until } from '../support/time';

const listed = async (id: string) =>
  ((await (await api('/v1/jobs?limit=100')).json()) as { items: Array<{ id: string }> }).items
    .map((j) => j.id)
    .includes(id);

describe('JOB_RETENTION_SECONDS', () => {
  it('deletes a finished job a second after it ended: 404, unlisted, its storage empty', async () => {
    const key = { 'idempotency-key': tag('kept') };
    const job = await submit({ urls: [origin('/page?title=R'), origin('/page?title=S')] }, key);
    const final = await waitForJob(job.id);
    expect(final.counts.succeeded).toBe(2);
    expect(await listed(job.id)).toBe(true);
    await until(async () => (await api(`/v1/jobs/${job.id}`)).status === 404, 15_000, 'deleted');
    // The deletion came after the retention time, not before it.
    expect(Date.now() - Date.parse(final.finishedAt ?? '')).toBeGreaterThanOrEqual(1_000);
    expect((await api(`/v1/jobs/${job.id}/results`)).status).toBe(404);
    expect(await listed(job.id)).toBe(false);
    const tables = await runInDurableObject(env.JOB_COORDINATOR.getByName(job.id), (_o, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name NOT LIKE '_cf_%'")
        .toArray(),
    );
    expect(tables).toEqual([]);
    // Its Idempotency-Key went with it: the same key now makes a new job.
    const again = await submit({ urls: [origin('/page?title=R'), origin('/page?title=S')] }, key);
    expect(again.id).not.toBe(job.id);
  });

  it('deletes the bodies a job stored with it', async () => {
    const t = tag('bodies');
    const job = await submit({
      urls: [origin(`/gate?tag=${t}`), origin(`/page?title=Kept&tag=${t}`)],
      store: { bodies: true },
    });
    // Put there while the job runs, so it is in the bucket before retention can come.
    await env.BODIES.put(`${job.id}/${'0'.repeat(64)}`, 'a body');
    await fetch(origin(`/__open?tag=${t}`));
    expect((await waitForJob(job.id)).counts.succeeded).toBe(2);
    await until(async () => (await api(`/v1/jobs/${job.id}`)).status === 404, 15_000, 'deleted');
    expect((await env.BODIES.list({ prefix: `${job.id}/` })).objects).toEqual([]);
  });

  it('keeps a running job, whatever its age', async () => {
    const t = tag('slow');
    const job = await submit({ urls: [origin(`/gate?tag=${t}`)] });
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await api(`/v1/jobs/${job.id}`)).status).toBe(200);
    await fetch(origin(`/__open?tag=${t}`));
    expect((await waitForJob(job.id)).status).toBe('completed');
  });
});
