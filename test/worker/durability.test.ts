// Retries, deadlines and failFast, through the worker's own fetch handler.
import { describe, expect, it } from 'vitest';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';
import { attemptsSeen, fastRetry } from '../support/retries';
import { until } from '../support/time';

/** [start, end] epoch ms (the origin's clock) of each request under tag `t`, in order. */
async function timeline(t: string): Promise<Array<[number, number]>> {
  return (await (await fetch(origin(`/__timeline?tag=${t}`))).json()) as Array<[number, number]>;
}

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
    const view = await waitForJob(job.id);
    const [r] = await allResults(job.id);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(await attemptsSeen(t, 'd')).toBe(2);
    // Retry-After is the behaviour under test, so its 2 s are measured, as lower bounds only
    // (fastRetry alone would retry within 50 ms). The origin's own clock: the second request
    // started at least 2 s after the first.
    const [first, second] = await timeline(t);
    expect((second?.[0] ?? 0) - (first?.[0] ?? 0)).toBeGreaterThanOrEqual(2_000);
    // The coordinator's clock: the retry was fetched 2 s after the 429 was applied.
    const log = (await (await api(`/v1/jobs/${job.id}/attempts`)).json()) as {
      items: Array<{ at: string; status: number }>;
    };
    expect(log.items.map((a) => a.status)).toEqual([429]);
    const at429 = Date.parse(log.items[0]?.at ?? '');
    expect(Date.parse(r?.fetchedAt ?? '')).toBeGreaterThanOrEqual(at429 + 2_000);
    expect(Date.parse(r?.fetchedAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(view.createdAt) + 2_000,
    );
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
    // The deadline is the behaviour under test: the job ends near it, not at the fetches'
    // 60 s timeout. 5 s leaves the alarm a wide margin on a loaded machine.
    expect(elapsed).toBeLessThan(5_000);
    const results = await allResults(job.id);
    expect(results).toHaveLength(6);
    expect(results.every((r) => r.error?.kind === 'deadline')).toBe(true);
    // The two fetches in flight were cut off, not left to run.
    await until(async () => (await originStats(t)).aborted >= 2, 5_000, '2 fetches cut off');
    expect((await originStats(t)).aborted).toBe(2);
  });

  it('PATCH moves the deadline earlier', async () => {
    const t = tag('earlier');
    const urls = Array.from({ length: 4 }, (_, i) => origin(`/hang?i=${i}&tag=${t}`));
    const job = await submit({ urls, concurrency: 2, timeoutMs: 60_000, deadlineMs: 600_000 });
    // The job is running (its first fetches reached the origin) when its deadline moves.
    await until(async () => (await originStats(t)).inFlight === 2, 10_000, '2 fetches in flight');
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
    // The other pages never answer: only the failFast ending can end this job, and only by
    // cutting off the fetches in flight instead of waiting for them.
    const hanging = Array.from({ length: 8 }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
    const bad = origin(`/status/404?tag=${t}`);
    const job = await submit({
      urls: [bad, ...hanging],
      concurrency: 3,
      timeoutMs: 60_000,
      mode: 'failFast',
    });
    const view = await waitForJob(job.id, 10_000);
    expect(view.status).toBe('failed');
    const results = await allResults(job.id);
    expect(results).toHaveLength(9);
    const failing = results.find((r) => r.url === bad);
    expect(failing?.error?.kind).toBe('http_status');
    const rest = results.filter((r) => r.url !== bad);
    expect(rest.every((r) => r.error?.kind === 'cancelled')).toBe(true);
    expect(rest[0]?.error?.message).toContain(bad);
    // Every hanging fetch that had started was cut off (all but the 404 ended aborted).
    const stats = await until(
      async () => {
        const s = await originStats(t);
        return s.inFlight === 0 ? s : null;
      },
      5_000,
      'the hanging fetches to be cut off',
    );
    expect(stats.requests).toBeGreaterThanOrEqual(3);
    expect(stats.aborted).toBe(stats.requests - 1);
  });
});
