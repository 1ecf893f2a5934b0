// Retries, deadlines and failFast, through the worker's own fetch handler.
import { describe, expect, it } from 'vitest';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';
import { attemptsSeen, fastRetry } from '../support/retries';
import { sleep } from '../support/time';

describe('retries', () => {
  it('the attempt log answers 404 for an unknown job and 400 for a bad cursor', async () => {
    expect((await api('/v1/jobs/j0nosuchjob0000000000/attempts')).status).toBe(404);
    const job = await submit({ urls: [origin('/text')] });
    const bad = await api(`/v1/jobs/${job.id}/attempts?cursor=nonsense`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/cursor/);
  });

  it('gives up after maxAttempts with the last failure as the result', async () => {
    const t = tag('flaky-out');
    const url = origin(`/flaky?tag=${t}&key=b&fails=10&code=500`);
    const job = await submit({ urls: [url], retry: { ...fastRetry, maxAttempts: 3 } });
    await waitForJob(job.id);
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({
      ok: false,
      status: 500,
      attempts: 3,
      error: { kind: 'http_status' },
    });
    expect(await attemptsSeen(t, 'b')).toBe(3);
  });

  it('never retries a 404', async () => {
    const t = tag('404');
    const job = await submit({ urls: [origin(`/status/404?tag=${t}&key=c`)], retry: fastRetry });
    await waitForJob(job.id);
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({ ok: false, status: 404, attempts: 1 });
    expect(await attemptsSeen(t, 'c')).toBe(1);
  });

  it('honours Retry-After: a 429 with Retry-After: 2 is not retried before 2 s', async () => {
    const t = tag('ra');
    const url = origin(`/flaky?tag=${t}&key=d&fails=1&code=429&retryAfter=2`);
    const job = await submit({ urls: [url], retry: fastRetry });
    await sleep(1_500);
    expect(await attemptsSeen(t, 'd')).toBe(1);
    const view = await waitForJob(job.id);
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    const first = Date.parse(view.createdAt);
    expect(Date.parse(r?.fetchedAt ?? '')).toBeGreaterThanOrEqual(first + 2_000);
  });
});

describe('deadlines', () => {
  it('times the job out at deadlineMs, aborting in-flight fetches', async () => {
    const t = tag('deadline');
    const urls = Array.from({ length: 6 }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 2, timeoutMs: 60_000, deadlineMs: 800 });
    const view = await waitForJob(job.id, 10_000);
    expect(view.status).toBe('timed_out');
    const elapsed = Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt);
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(elapsed).toBeLessThan(5_000);
    const results = await allResults(job.id);
    expect(results).toHaveLength(6);
    expect(results.every((r) => r.error?.kind === 'deadline')).toBe(true);
    for (let i = 0; i < 100 && (await originStats(t)).aborted < 2; i++) await sleep(20);
    expect((await originStats(t)).aborted).toBe(2);
  });

  it('PATCH moves the deadline earlier', async () => {
    const urls = Array.from({ length: 4 }, (_, i) => origin(`/hang?i=${i}&p=${tag('e')}`));
    const job = await submit({ urls, concurrency: 2, timeoutMs: 60_000, deadlineMs: 600_000 });
    await sleep(200);
    const res = await api(`/v1/jobs/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ deadlineMs: 700 }),
    });
    expect(res.status).toBe(200);
    const view = await waitForJob(job.id, 10_000);
    expect(view.status).toBe('timed_out');
    expect(Date.parse(view.deadlineAt ?? '') - Date.parse(view.createdAt)).toBe(700);
  });

  it('PATCH moves the deadline later, and the job completes', async () => {
    const t = tag('later');
    const urls = Array.from({ length: 8 }, (_, i) => origin(`/delay?ms=400&tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 2, deadlineMs: 1_200 });
    const res = await api(`/v1/jobs/${job.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ deadlineMs: 30_000 }),
    });
    expect(res.status).toBe(200);
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    expect(view.counts.succeeded).toBe(8);
  });

  it('PATCH rejects bad bodies and terminal jobs', async () => {
    const job = await submit({ urls: [origin('/text')] });
    const bad = await api(`/v1/jobs/${job.id}`, { method: 'PATCH', body: '{"deadlineMs": -5}' });
    expect(bad.status).toBe(400);
    await waitForJob(job.id);
    const late = await api(`/v1/jobs/${job.id}`, { method: 'PATCH', body: '{"deadlineMs": 5000}' });
    expect(late.status).toBe(409);
  });
});

describe('failFast', () => {
  it('the first permanent failure cancels the rest and names the cause', async () => {
    const t = tag('ff');
    const slow = Array.from({ length: 8 }, (_, i) => origin(`/delay?ms=1500&tag=${t}&i=${i}`));
    const bad = origin(`/status/404?tag=${t}`);
    const job = await submit({ urls: [bad, ...slow], concurrency: 3, mode: 'failFast' });
    const view = await waitForJob(job.id);
    expect(view.status).toBe('failed');
    const results = await allResults(job.id);
    expect(results).toHaveLength(9);
    const failing = results.find((r) => r.url === bad);
    expect(failing?.error?.kind).toBe('http_status');
    const rest = results.filter((r) => r.url !== bad);
    expect(rest.every((r) => r.error?.kind === 'cancelled')).toBe(true);
    expect(rest[0]?.error?.message).toContain(bad);
    expect(Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt)).toBeLessThan(1_500);
  });
});
