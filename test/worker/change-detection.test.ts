// compareWith through the worker against the local origin: conditional requests with the
// previous job's validators, 304s carried forward, hashes compared, new and gone URLs counted,
// the `changed` filter, the callback's `changes`, and the checks made before a job is created.
import { describe, expect, it } from 'vitest';
import type { JobView, Result } from '../../src/jobs/types';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';
import { hangingJob } from '../support/hanging-job';
import { newKey } from '../support/keys';

interface Conditional {
  ifNoneMatch: number;
  ifModifiedSince: number;
  notModified: number;
  ok: number;
  bodyBytes: number;
}

async function conditional(t: string): Promise<Record<string, Conditional>> {
  const stats = (await originStats(t)) as unknown as { conditional: Record<string, Conditional> };
  return stats.conditional;
}

async function bump(t: string, name: string): Promise<void> {
  const res = await fetch(origin(`/__version?tag=${t}&name=${name}`));
  expect(res.status).toBe(200);
}

const EXTRACT = { selectors: { heading: 'h1' }, links: true };

/** Runs a job to its end; its view and its Results by URL. */
async function run(body: Record<string, unknown>) {
  const { id } = await submit({ extract: EXTRACT, retry: { maxAttempts: 1 }, ...body });
  const view = await waitForJob(id);
  const results = new Map((await allResults(id)).map((r) => [r.url, r]));
  return { id, view, results };
}

describe('POST /v1/jobs with compareWith', () => {
  it('asks with the previous validators, carries 304s forward, compares hashes, counts new and gone', async () => {
    const t = tag('compare');
    const page = (name: string, validators = 'both') =>
      origin(`/versioned/${name}?tag=${t}&validators=${validators}`);
    const etagOnly = page('a', 'etag');
    const lmOnly = page('b', 'lm');
    const none = page('c', 'none');
    const bumped = page('d');
    const gone = page('e');
    const fresh = page('f');
    const first = await run({ urls: [etagOnly, lmOnly, none, bumped, gone] });
    expect(first.view.changes).toBe(null);
    expect(first.view.compareWith).toBe(null);
    expect([...first.results.values()].map((r) => r.changed)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    const before = first.results.get(etagOnly);
    expect(before?.etag).toBe('"a-v1"');
    expect(before?.lastModified).toBe(null);
    expect(first.results.get(lmOnly)?.lastModified).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
    await bump(t, 'd');

    const second = await run({
      urls: [etagOnly, lmOnly, none, bumped, fresh],
      compareWith: first.id,
    });
    expect(second.view.status).toBe('completed');
    expect(second.view.compareWith).toBe(first.id);
    expect(second.view.changes).toEqual({ changed: 1, unchanged: 3, new: 1, gone: 1 });

    const a = second.results.get(etagOnly);
    expect(a).toMatchObject({
      ok: true,
      status: 304,
      notModified: true,
      changed: false,
      bytes: 0,
      etag: '"a-v1"',
      title: before?.title,
      links: before?.links,
      data: before?.data,
      linkUrls: before?.linkUrls,
      contentHash: before?.contentHash,
    });
    expect(a?.title).toMatch(/\S/);
    expect(second.results.get(lmOnly)).toMatchObject({
      status: 304,
      notModified: true,
      changed: false,
      contentHash: first.results.get(lmOnly)?.contentHash,
    });
    expect(second.results.get(none)).toMatchObject({
      status: 200,
      notModified: false,
      changed: false,
      contentHash: first.results.get(none)?.contentHash,
    });
    const d = second.results.get(bumped);
    expect(d).toMatchObject({ status: 200, notModified: false, changed: true, etag: '"d-v2"' });
    expect(d?.contentHash).not.toBe(first.results.get(bumped)?.contentHash);
    expect(second.results.get(fresh)?.changed).toBe(null);

    // What the origin saw: the validators it sent before, asked back; bodies only when needed.
    const seen = await conditional(t);
    const path = (name: string) => `/versioned/${name}`;
    expect(seen[path('a')]).toMatchObject({
      ifNoneMatch: 1,
      ifModifiedSince: 0,
      notModified: 1,
      ok: 1,
    });
    expect(seen[path('b')]).toMatchObject({
      ifNoneMatch: 0,
      ifModifiedSince: 1,
      notModified: 1,
      ok: 1,
    });
    expect(seen[path('c')]).toMatchObject({ ifNoneMatch: 0, ifModifiedSince: 0, ok: 2 });
    expect(seen[path('d')]).toMatchObject({
      ifNoneMatch: 1,
      ifModifiedSince: 1,
      notModified: 0,
      ok: 2,
    });
    expect(seen[path('f')]).toMatchObject({ ifNoneMatch: 0, ifModifiedSince: 0, ok: 1 });

    // The filter, on JSON pages and on CSV.
    const only = async (changed: boolean) => {
      const res = await api(`/v1/jobs/${second.id}/results?changed=${changed}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Result[] };
      return body.items.map((r) => r.url).sort();
    };
    expect(await only(true)).toEqual([bumped]);
    expect(await only(false)).toEqual([etagOnly, lmOnly, none].sort());
    const csv = await (await api(`/v1/jobs/${second.id}/results?format=csv&changed=true`)).text();
    expect(csv.trimEnd().split('\r\n')).toHaveLength(2);
    expect(csv).toContain(`${bumped},`);
    const bad = await api(`/v1/jobs/${second.id}/results?changed=yes`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'invalid_request', message: 'changed: expected true or false' },
    });
  });

  it('sends no conditional request when the jobs extract different things, and compares hashes', async () => {
    const t = tag('compare');
    const url = origin(`/versioned/x?tag=${t}`);
    const first = await run({ urls: [url] });
    const second = await run({ urls: [url], compareWith: first.id, extract: { selectors: {} } });
    expect(second.results.get(url)).toMatchObject({
      status: 200,
      notModified: false,
      changed: false,
    });
    expect((await conditional(t))['/versioned/x']).toMatchObject({ ifNoneMatch: 0, ok: 2 });
  });

  it('the callback carries changes; notify "changes" sends none when nothing changed', async () => {
    const t = tag('compare');
    const url = origin(`/versioned/n?tag=${t}`);
    const hook = origin(`/hook?tag=${t}`);
    const first = await run({ urls: [url] });
    await run({ urls: [url], compareWith: first.id, callbackUrl: hook });
    await run({ urls: [url], compareWith: first.id, callbackUrl: hook, notify: 'changes' });
    await bump(t, 'n');
    const changed = await run({
      urls: [url],
      compareWith: first.id,
      callbackUrl: hook,
      notify: 'changes',
    });
    const hooks = async () =>
      ((await (await fetch(origin(`/__hooks?tag=${t}`))).json()) as Array<{ body: string }>).map(
        (h) => JSON.parse(h.body) as JobView,
      );
    for (let i = 0; i < 100 && (await hooks()).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const sent = await hooks();
    // Only the plain one and the changed one: the unchanged notify "changes" job sent nothing.
    expect(sent.map((v) => v.changes)).toEqual([
      { changed: 0, unchanged: 1, new: 0, gone: 0 },
      { changed: 1, unchanged: 0, new: 0, gone: 0 },
    ]);
    expect(sent[1]?.id).toBe(changed.id);
  });

  it('refuses an unknown, unreadable or running job before creating anything', async () => {
    const listIds = async () => {
      const res = await api('/v1/jobs?limit=100');
      return ((await res.json()) as { items: JobView[] }).items.map((j) => j.id);
    };
    const urls = [origin('/page?title=x')];
    const post = (body: Record<string, unknown>, token?: string) =>
      api('/v1/jobs', {
        method: 'POST',
        body: JSON.stringify(body),
        headers: token ? { authorization: `Bearer ${token}` } : undefined,
      });
    const before = await listIds();

    const unknown = await post({ urls, compareWith: 'j0000000000000000000000' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      error: {
        code: 'invalid_request',
        message: 'compareWith: no job j0000000000000000000000',
        details: [{ path: 'compareWith', message: 'no job j0000000000000000000000' }],
      },
    });
    const malformed = await post({ urls, compareWith: 'nope' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      error: { message: 'compareWith: not a job id' },
    });

    const { id: running } = await hangingJob(2, 2);
    const busy = await post({ urls, compareWith: running });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({
      error: {
        code: 'conflict',
        message: expect.stringContaining(`compareWith: job ${running} is running`),
      },
    });
    await api(`/v1/jobs/${running}`, { method: 'DELETE' });

    // An API key cannot compare with the admin's job: as if it did not exist.
    const done = await run({ urls });
    const key = await newKey({ name: 'compare' });
    const theirs = await post({ urls, compareWith: done.id }, key.token);
    expect(theirs.status).toBe(400);
    expect(await theirs.json()).toMatchObject({
      error: { message: `compareWith: no job ${done.id}` },
    });

    const after = await listIds();
    expect(after.filter((id) => !before.includes(id))).toEqual([done.id, running]);
  });
});
