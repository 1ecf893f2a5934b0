// Tolerated failures (maxFailures) and redrive: a job ends `failed` once more Results fail than
// it tolerates, and a finished job's failures can be run again as a new job.
import { describe, expect, it } from 'vitest';
import type { JobView, Result } from '../../src/jobs/types';
import { allResults, api, getJob, origin, submit, tag, waitForJob } from '../support/api';
import { as, newKey } from '../support/keys';
import { until } from '../support/time';

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

/** `n` URLs that answer 404 at once (one attempt: 404 is not retried). */
const notFound = (t: string, n: number) =>
  Array.from({ length: n }, (_, i) => origin(`/status/404?tag=${t}&i=${i}`));
const pages = (t: string, n: number) =>
  Array.from({ length: n }, (_, i) => origin(`/page?tag=${t}&p=${i}`));

async function redrive(id: string, body?: unknown) {
  return api(`/v1/jobs/${id}/redrive`, {
    method: 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('maxFailures', () => {
  it('a count: one failure past it ends the job failed, and every URL has one Result', async () => {
    const t = tag('maxf');
    // The gated pages wait until the limit has tripped: they are what the ending cancels.
    const gated = [0, 1].map((i) => origin(`/gate?tag=${t}&g=${i}`));
    const urls = [...notFound(t, 3), ...gated];
    const job = await submit({ urls, concurrency: 6, maxFailures: 2 });
    const view = await waitForJob(job.id);
    expect(view).toMatchObject({ status: 'failed', maxFailures: 2 });
    expect(view.counts).toMatchObject({ total: 5, failed: 3, cancelled: 2, succeeded: 0 });
    const results = await allResults(job.id);
    expect(results.map((r) => r.url).sort()).toEqual([...urls].sort());
    for (const url of gated) {
      const r = results.find((x) => x.url === url);
      expect(r?.error?.kind).toBe('cancelled');
      expect(r?.error?.message).toMatch(
        /^cancelled: maxFailures 2 exceeded \(3 failed; the last: /,
      );
    }
  });

  it('a count not passed: the job completes with its failures', async () => {
    const t = tag('maxf-ok');
    const job = await submit({ urls: [...notFound(t, 3), ...pages(t, 2)], maxFailures: 3 });
    const view = await waitForJob(job.id);
    expect(view).toMatchObject({ status: 'completed', maxFailures: 3 });
    expect(view.counts).toMatchObject({ total: 5, failed: 3, succeeded: 2, cancelled: 0 });
  });

  it('a percentage of the URLs: "40%" of 5 tolerates 2, "60%" tolerates 3', async () => {
    const t = tag('maxf-pct');
    const urls = [...notFound(t, 3), ...pages(t, 2)];
    const strict = await waitForJob((await submit({ urls, maxFailures: '40%' })).id);
    expect(strict).toMatchObject({ status: 'failed', maxFailures: '40%' });
    const lenient = await waitForJob((await submit({ urls, maxFailures: '60%' })).id);
    expect(lenient).toMatchObject({ status: 'completed', maxFailures: '60%' });
    expect(lenient.counts.failed).toBe(3);
  });

  it.each([
    [{ maxFailures: 1, mode: 'failFast' }, /^maxFailures: give mode "failFast" or maxFailures/],
    [{ maxFailures: '101%' }, /^maxFailures:/],
    [{ maxFailures: '5.123%' }, /^maxFailures:/],
    [{ maxFailures: -1 }, /^maxFailures:/],
    [{ maxFailures: 1.5 }, /^maxFailures:/],
  ])('refuses %j with a 400 naming maxFailures', async (extra, re) => {
    const res = await api('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ urls: [origin('/page')], ...extra }),
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(re);
  });

  it('failFast shows as maxFailures 0', async () => {
    const job = await submit({ urls: [origin('/page?title=ff')], mode: 'failFast' });
    expect(await waitForJob(job.id)).toMatchObject({ mode: 'failFast', maxFailures: 0 });
  });
});

describe('POST /v1/jobs/:id/redrive', () => {
  it('runs the failed URLs again as a new job: a flaky URL now succeeds', async () => {
    const t = tag('redrive');
    const flaky = origin(`/flaky?tag=${t}&key=f&fails=1`);
    const fine = origin(`/page?tag=${t}&p=ok`);
    const source = await submit({ urls: [flaky, fine], retry: { maxAttempts: 1 } });
    expect((await waitForJob(source.id)).counts).toMatchObject({ failed: 1, succeeded: 1 });
    const res = await redrive(source.id);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; accepted: number; redriveOf: string };
    expect(body).toMatchObject({ accepted: 1, redriveOf: source.id });
    expect(res.headers.get('location')).toBe(`/v1/jobs/${body.id}`);
    const again = await waitForJob(body.id);
    expect(again).toMatchObject({ status: 'completed', redriveOf: source.id, redrives: [] });
    const results = await allResults(body.id);
    expect(results.map((r: Result) => [r.url, r.ok])).toEqual([[flaky, true]]);
    expect((await getJob(source.id)).redrives).toEqual([body.id]);
  });

  it('with kinds, takes only the failures of those kinds', async () => {
    const t = tag('redrive-kinds');
    const hang = origin(`/hang?tag=${t}`);
    const gone = origin(`/status/404?tag=${t}`);
    const source = await submit({
      urls: [hang, gone, origin(`/page?tag=${t}`)],
      timeoutMs: 200,
      retry: { maxAttempts: 1 },
    });
    await waitForJob(source.id);
    const res = await redrive(source.id, { kinds: ['timeout'] });
    expect(res.status).toBe(202);
    const { id, accepted } = (await res.json()) as { id: string; accepted: number };
    expect(accepted).toBe(1);
    await api(`/v1/jobs/${id}`, { method: 'DELETE' });
    const byKind = await redrive(source.id, { kinds: ['http_status', 'timeout'] });
    expect(((await byKind.json()) as { accepted: number }).accepted).toBe(2);
    const view = (await getJob(source.id)) as JobView;
    expect(view.redrives).toHaveLength(2);
    expect(view.redrives[0]).toBe(id);
  });

  it('is a 409 while the job runs and when nothing failed; a 400 for an unknown kind', async () => {
    const t = tag('redrive-409');
    const running = await submit({ urls: [origin(`/gate?tag=${t}`)] });
    const busy = await redrive(running.id);
    expect(busy.status).toBe(409);
    expect((await errorOf(busy)).message).toBe('the job is running: redrive it once it has ended');
    await fetch(origin(`/__open?tag=${t}`));
    await waitForJob(running.id);
    const nothing = await redrive(running.id);
    expect(nothing.status).toBe(409);
    expect((await errorOf(nothing)).message).toBe('nothing to redrive: no failed Result');
    const bad = await redrive(running.id, { kinds: ['flaky'] });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toMatch(/^kinds\[0\]:/);
    expect((await getJob(running.id)).redrives).toEqual([]);
  });

  it('is a 404 for another API key’s job', async () => {
    const a = await newKey({ name: 'redrive a' });
    const b = await newKey({ name: 'redrive b' });
    const t = tag('redrive-owner');
    const res = await as(a.token, '/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ urls: notFound(t, 1) }),
    });
    const { id } = (await res.json()) as { id: string };
    await until(async () => (await getJob(id)).status === 'completed', 10_000, 'the job to end');
    expect((await as(b.token, `/v1/jobs/${id}/redrive`, { method: 'POST' })).status).toBe(404);
    const mine = await as(a.token, `/v1/jobs/${id}/redrive`, { method: 'POST' });
    expect(mine.status).toBe(202);
    const { id: newId } = (await mine.json()) as { id: string };
    expect(((await (await as(a.token, `/v1/jobs/${newId}`)).json()) as JobView).owner).toBe(a.id);
  });
});
