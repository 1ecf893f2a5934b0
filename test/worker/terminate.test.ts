// Ending a job of many chunks through the worker's own fetch handler: DELETE, PATCH, failFast.
import { describe, expect, it } from 'vitest';
import type { JobView } from '../../src/jobs/types';
import {
  allResults,
  api,
  getJob,
  origin,
  originStats,
  submit,
  tag,
  waitForJob,
} from '../support/api';
import { expectConsistent, hangingJob, URLS } from '../support/hanging-job';
import { sleep } from '../support/time';

describe('ending a job of many chunks', () => {
  it('DELETE settles every URL once, in chunks, and a status read issued meanwhile answers', async () => {
    const { id, urls, t } = await hangingJob(URLS, 6);
    const [del, read] = await Promise.all([
      api(`/v1/jobs/${id}`, { method: 'DELETE' }),
      api(`/v1/jobs/${id}`),
    ]);
    expect(del.status).toBe(200);
    const ended = (await del.json()) as JobView;
    expect(ended.status).toBe('cancelled');
    expect(Date.parse(ended.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(ended.createdAt));
    expect(ended.counts).toEqual({
      total: URLS,
      queued: 0,
      inFlight: 0,
      retrying: 0,
      succeeded: 0,
      failed: 0,
      cancelled: URLS,
    });
    expect(read.status).toBe(200);
    const during = (await read.json()) as JobView;
    expectConsistent(during, URLS);
    // Terminal only with every Result written.
    if (during.status === 'cancelled') expect(during.counts.cancelled).toBe(URLS);
    else expect(during.finishedAt).toBeNull();

    const results = await allResults(id);
    expect(results).toHaveLength(URLS);
    expect(new Set(results.map((r) => r.url))).toEqual(new Set(urls));
    expect(results.every((r) => r.error?.kind === 'cancelled')).toBe(true);
    for (let i = 0; i < 100 && (await originStats(t)).aborted < 6; i++) await sleep(20);
    expect((await originStats(t)).aborted).toBe(6);

    const again = await api(`/v1/jobs/${id}`, { method: 'DELETE' });
    expect(((await again.json()) as JobView).status).toBe('cancelled');
    expect(await allResults(id)).toEqual(results);
  });

  it('PATCH to a passed deadline ends a job of many chunks within the call', async () => {
    const { id } = await hangingJob(300, 4);
    const res = await api(`/v1/jobs/${id}`, { method: 'PATCH', body: '{"deadlineMs": 1}' });
    expect(res.status).toBe(200);
    const view = (await res.json()) as JobView;
    expect(view.status).toBe('timed_out');
    expect(view.counts).toMatchObject({ total: 300, cancelled: 300, queued: 0, inFlight: 0 });
    const results = await allResults(id);
    expect(results).toHaveLength(300);
    expect(results.every((r) => r.error?.kind === 'deadline')).toBe(true);
  });

  it('failFast over many chunks: the failing URL keeps its own Result, the rest are cancelled', async () => {
    const t = tag('ff-big');
    const bad = origin(`/status/404?tag=${t}`);
    const slow = Array.from({ length: 199 }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
    const job = await submit({ urls: [bad, ...slow], concurrency: 3, mode: 'failFast' });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('failed');
    expect(view.counts).toMatchObject({ total: 200, failed: 1, cancelled: 199, queued: 0 });
    const results = await allResults(job.id);
    expect(results).toHaveLength(200);
    expect(new Set(results.map((r) => r.url)).size).toBe(200);
    expect(results.find((r) => r.url === bad)?.error?.kind).toBe('http_status');
    const rest = results.filter((r) => r.url !== bad);
    expect(rest.every((r) => r.error?.kind === 'cancelled')).toBe(true);
    expect(rest[0]?.error?.message).toContain(bad);
    expect(await getJob(job.id)).toMatchObject({ status: 'failed' });
  });
});
