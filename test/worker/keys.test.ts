// API keys: the admin manages them; each key sees only its own jobs (another's are 404 on every
// route), is held to its limits, and is refused the moment it is deleted. Purge deletes a job.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { JobView } from '../../src/jobs/types';
import { api, origin, originStats, submit, tag, waitForJob } from '../support/api';
import { as, newKey } from '../support/keys';
import { until } from '../support/time';

async function submitAs(token: string, body: Record<string, unknown>, headers?: HeadersInit) {
  const h = new Headers(headers);
  h.set('authorization', `Bearer ${token}`);
  return api('/v1/jobs', { method: 'POST', body: JSON.stringify(body), headers: h });
}

async function listIds(token: string | null, path = '/v1/jobs?limit=100'): Promise<string[]> {
  const res = token ? await as(token, path) : await api(path);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Array<{ id: string }> }).items.map((j) => j.id);
}

const errorCode = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

describe('POST /v1/keys', () => {
  it('creates a key with defaults; the token is shown once and never listed', async () => {
    const key = await newKey({ name: 'team a' });
    expect(key).toMatchObject({ name: 'team a', maxActiveJobs: 10, maxConcurrency: 1000 });
    expect(key.id).toMatch(/^key_[0-9a-z]{8,10}[0-9a-f]{12}$/);
    expect(key.token).toMatch(/^sfk_[0-9a-f]{48}$/);
    expect(Date.parse(key.createdAt)).toBeGreaterThan(0);
    const list = await api('/v1/keys?limit=100');
    const text = await list.text();
    expect(text).not.toContain(key.token);
    const items = (JSON.parse(text) as { items: Array<Record<string, unknown>> }).items;
    const { token: _token, ...view } = key;
    expect(items.find((k) => k.id === key.id)).toEqual(view);
  });

  it.each([
    ['an empty name', { name: '' }, /^name:/],
    ['a name of 101 characters', { name: 'x'.repeat(101) }, /^name:/],
    ['maxActiveJobs 0', { name: 'a', maxActiveJobs: 0 }, /^maxActiveJobs:/],
    ['maxConcurrency 1001', { name: 'a', maxConcurrency: 1001 }, /^maxConcurrency:/],
    ['an unknown field', { name: 'a', admin: true }, /unknown/],
  ])('refuses %s with 400', async (_n, body, re) => {
    const res = await api('/v1/keys', { method: 'POST', body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    const error = await errorCode(res);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(re);
  });

  it('is the admin’s alone: a key gets 403 forbidden on every /v1/keys route', async () => {
    const key = await newKey({ name: 'no admin' });
    for (const [method, path] of [
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys'],
      ['DELETE', `/v1/keys/${key.id}`],
    ] as const) {
      const body = method === 'POST' ? JSON.stringify({ name: 'x' }) : undefined;
      const res = await as(key.token, path, { method, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect((await errorCode(res)).code).toBe('forbidden');
    }
    expect(await listIds(null, '/v1/keys?limit=100')).toContain(key.id);
  });
});

describe('ownership', () => {
  it('a key reaches only its own jobs: 404 on every route for another’s; the admin sees all', async () => {
    const a = await newKey({ name: 'owner a' });
    const b = await newKey({ name: 'owner b' });
    const res = await submitAs(a.token, { urls: [origin('/page?title=A')] });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const viewA = (await (await as(a.token, `/v1/jobs/${id}`)).json()) as JobView;
    expect(viewA.owner).toBe(a.id);
    for (const [method, path] of [
      ['GET', `/v1/jobs/${id}`],
      ['GET', `/v1/jobs/${id}/results`],
      ['GET', `/v1/jobs/${id}/attempts`],
      ['GET', `/v1/jobs/${id}/events`],
      ['PATCH', `/v1/jobs/${id}`],
      ['DELETE', `/v1/jobs/${id}`],
      ['DELETE', `/v1/jobs/${id}?purge=true`],
    ] as const) {
      const body = method === 'PATCH' ? JSON.stringify({ deadlineMs: 60_000 }) : undefined;
      const other = await as(b.token, path, { method, body });
      expect(other.status, `${method} ${path}`).toBe(404);
      expect((await errorCode(other)).code).toBe('not_found');
    }
    // The NDJSON stream too.
    const stream = await as(b.token, `/v1/jobs/${id}/results`, {
      headers: { accept: 'application/x-ndjson' },
    });
    expect(stream.status).toBe(404);
    expect(await listIds(a.token)).toEqual([id]);
    expect(await listIds(b.token)).toEqual([]);
    const all = (await (await api('/v1/jobs?limit=100')).json()) as { items: JobView[] };
    expect(all.items.find((j) => j.id === id)?.owner).toBe(a.id);
    expect((await waitForJob(id)).status).toBe('completed');
  });

  it('an Idempotency-Key is scoped to its key: the same key from two keys makes two jobs', async () => {
    const a = await newKey({ name: 'idem a' });
    const b = await newKey({ name: 'idem b' });
    const body = { urls: [origin('/page?title=I')] };
    const headers = { 'idempotency-key': tag('shared') };
    const ja = (await (await submitAs(a.token, body, headers)).json()) as { id: string };
    const jb = (await (await submitAs(b.token, body, headers)).json()) as { id: string };
    const ja2 = (await (await submitAs(a.token, body, headers)).json()) as { id: string };
    expect(ja.id).not.toBe(jb.id);
    expect(ja2.id).toBe(ja.id);
  });

  it('a deleted key is refused at once; its jobs stay readable by the admin', async () => {
    const key = await newKey({ name: 'short-lived' });
    const { id } = (await (
      await submitAs(key.token, { urls: [origin('/page?title=D')] })
    ).json()) as { id: string };
    expect((await as(key.token, `/v1/jobs/${id}`)).status).toBe(200);
    const del = await api(`/v1/keys/${key.id}`, { method: 'DELETE' });
    expect(await del.json()).toEqual({ id: key.id, deleted: true });
    const refused = await as(key.token, `/v1/jobs/${id}`);
    expect(refused.status).toBe(401);
    expect((await errorCode(refused)).code).toBe('unauthorized');
    expect((await api(`/v1/keys/${key.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await waitForJob(id)).owner).toBe(key.id);
  });
});

describe('limits', () => {
  it('a key at maxActiveJobs gets 429 with Retry-After and nothing is created', async () => {
    const key = await newKey({ name: 'one at a time', maxActiveJobs: 1 });
    const t = tag('limit');
    const first = await submitAs(key.token, { urls: [origin(`/gate?tag=${t}`)] });
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    const refused = await submitAs(
      key.token,
      { urls: [origin('/page?title=2')] },
      {
        'idempotency-key': tag('refused'),
      },
    );
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    const error = await errorCode(refused);
    expect(error.code).toBe('rate_limited');
    expect(error.message).toMatch(/1 active jobs, its maxActiveJobs/);
    expect(await listIds(key.token)).toEqual([id]);
    // Once the job ends, its place is free.
    await fetch(origin(`/__open?tag=${t}`));
    await waitForJob(id);
    await until(
      async () => (await submitAs(key.token, { urls: [origin('/page?title=3')] })).status === 202,
      10_000,
      'a place after the first job ended',
    );
    expect(await listIds(key.token)).toHaveLength(2);
  });

  it('a job above the key’s maxConcurrency is a 400 naming concurrency and the limit', async () => {
    const key = await newKey({ name: 'narrow', maxConcurrency: 5 });
    const res = await submitAs(key.token, { urls: [origin('/page')], concurrency: 6 });
    expect(res.status).toBe(400);
    expect((await errorCode(res)).message).toBe(
      'concurrency: at most 5 for this API key (its maxConcurrency)',
    );
    expect(await listIds(key.token)).toEqual([]);
    expect((await submitAs(key.token, { urls: [origin('/page')], concurrency: 5 })).status).toBe(
      202,
    );
  });
});

describe('DELETE /v1/jobs/:id?purge=true', () => {
  it('aborts a running job’s fetches and leaves nothing readable', async () => {
    const t = tag('purge');
    const urls = Array.from({ length: 12 }, (_, i) => origin(`/hang?tag=${t}&n=${i}`));
    const job = await submit({ urls, concurrency: 6, timeoutMs: 60_000 });
    await until(async () => (await originStats(t)).inFlight === 6, 10_000, 'six fetches');
    const res = await api(`/v1/jobs/${job.id}?purge=true`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: job.id, purged: true });
    await until(async () => (await originStats(t)).aborted === 6, 10_000, 'fetches aborted');
    for (const path of ['', '/results', '/attempts', '/events']) {
      expect((await api(`/v1/jobs/${job.id}${path}`)).status, path).toBe(404);
    }
    expect((await api(`/v1/jobs/${job.id}?purge=true`, { method: 'DELETE' })).status).toBe(404);
    expect(await listIds(null)).not.toContain(job.id);
    const tables = await runInDurableObject(env.JOB_COORDINATOR.getByName(job.id), (_o, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name NOT LIKE '_cf_%'")
        .toArray(),
    );
    expect(tables).toEqual([]);
    expect((await originStats(t)).requests).toBe(6);
  });

  it('refuses a purge value other than true or false', async () => {
    const job = await submit({ urls: [origin('/page')] });
    const res = await api(`/v1/jobs/${job.id}?purge=yes`, { method: 'DELETE' });
    expect(res.status).toBe(400);
    expect((await errorCode(res)).message).toBe('purge: expected true or false');
  });
});
