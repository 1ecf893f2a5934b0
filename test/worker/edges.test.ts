// Paths of the worker that the other files leave alone: ?wait out of range, a deployment
// without API_TOKEN, unknown routes, and robots.txt answering 5xx (a robots.txt that cannot be
// connected to is in politeness.test.ts).
import { listDurableObjectIds } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import type { Result } from '../../src/jobs/types';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';
import { resultOf } from '../support/outcomes';

interface Envelope {
  error: { code: string; message: string; details?: unknown[] };
}

const jobCount = async () => (await listDurableObjectIds(env.JOB_COORDINATOR)).length;

describe('POST /v1/jobs?wait', () => {
  it.each(['-1', '31', '1.5', 'x'])(
    '?wait=%s is a 400 naming the range, and creates nothing',
    async (wait) => {
      const before = await jobCount();
      const res = await api(`/v1/jobs?wait=${wait}`, {
        method: 'POST',
        body: JSON.stringify({ urls: [origin('/page?title=W')] }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: {
          code: 'invalid_request',
          message: 'wait: expected an integer number of seconds 0..30',
        },
      });
      expect(await jobCount()).toBe(before);
    },
  );

  it('takes both ends of the range: 0 answers 202 at once, 30 waits for the end (200)', async () => {
    const body = JSON.stringify({ urls: [origin(`/page?title=W&tag=${tag('wait')}`)] });
    const none = await api('/v1/jobs?wait=0', { method: 'POST', body });
    expect(none.status).toBe(202);
    const full = await api('/v1/jobs?wait=30', { method: 'POST', body });
    expect(full.status).toBe(200);
    expect(((await full.json()) as { status: string }).status).toBe('completed');
  });
});

describe('a deployment without API_TOKEN', () => {
  // exports.default.fetch always runs with the test bindings (API_TOKEN set), so the app is
  // called directly with bindings that lack the token.
  const app = buildApp();

  it.each([
    ['unset', undefined],
    ['empty', ''],
  ])(
    'answers 503 unavailable on /v1 when the token is %s, even to a bearer token',
    async (_n, token) => {
      const bindings = { ...env, API_TOKEN: token } as unknown as Env;
      const variants: HeadersInit[] = [
        {},
        { authorization: 'Bearer test-token' },
        { authorization: 'Bearer ' },
      ];
      for (const headers of variants) {
        const res = await app.fetch(new Request('http://api.test/v1/jobs', { headers }), bindings);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({
          error: { code: 'unavailable', message: 'API_TOKEN is not configured on this deployment' },
        });
      }
      // Outside /v1 nothing needs the token.
      const root = await app.fetch(new Request('http://api.test/'), bindings);
      expect(root.status).toBe(200);
      expect(((await root.json()) as { api: string }).api).toBe('/v1');
    },
  );
});

describe('unknown routes', () => {
  it('answer 404 in the envelope under /v1 (with a valid token) and outside it', async () => {
    const notFound = { error: { code: 'not_found', message: 'no such route' } };
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['GET', '/v1/jobs/j000000000abcdefabcdef/nope'],
      ['PUT', '/v1/jobs'],
      ['GET', '/v1'],
    ] as const) {
      const res = await api(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.json()).toEqual(notFound);
    }
    for (const path of ['/nope', '/v2/jobs', '/favicon.ico']) {
      const res = await exports.default.fetch(new Request(`http://api.test${path}`));
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await res.json()).toEqual(notFound);
    }
  });

  it('under /v1 the token is checked first: without one an unknown route is a 401', async () => {
    const res = await api('/v1/nope', { headers: { authorization: '' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as Envelope).error.code).toBe('unauthorized');
  });
});

/** How many times each host's robots.txt was requested (test/origin/server.ts `/__robots`). */
async function robotsRequests(host: string): Promise<number> {
  const res = await fetch(origin('/__robots'));
  const counts = (await res.json()) as Record<string, number>;
  return counts[new URL(origin('/', host)).host] ?? 0;
}

/** Makes robots.txt of `host` answer `status` (null: the normal file again). */
async function setRobotsAnswer(host: string, status: number | null): Promise<void> {
  const res = await fetch(origin(`/__robots/answer?status=${status ?? ''}`, host));
  expect(res.status).toBe(200);
}

/** The Result of a URL settled because its host's robots.txt answered `status`: never fetched. */
const deniedResult = (url: string, status: number): Result =>
  resultOf(url, {
    finalUrl: null,
    ok: false,
    status: null,
    contentType: null,
    attempts: 0,
    fetchedAt: null,
    error: {
      kind: 'robots',
      message: `robots.txt unreachable (HTTP ${status}): nothing on this host is fetched`,
    },
  });

describe('robots.txt answering 5xx (respectRobots: RFC 9309 says disallow all)', () => {
  // 127.0.0.5 is the origin host no other test uses (see test/origin/server.ts).
  const FAILING_HOST = '127.0.0.5';
  afterEach(() => setRobotsAnswer(FAILING_HOST, null));

  it.each([500, 503])(
    'robots.txt answering %i: every URL of that host settles with kind robots, none is fetched',
    async (code) => {
      await setRobotsAnswer(FAILING_HOST, code);
      const t = tag(`robots${code}`);
      const denied = Array.from({ length: 4 }, (_, i) =>
        origin(`/page?title=D${i}&tag=${t}`, FAILING_HOST),
      );
      // A host with a readable robots.txt in the same job is fetched as usual.
      const fine = origin(`/page?title=Fine&tag=${t}`, '127.0.0.1');
      const before = await robotsRequests(FAILING_HOST);
      const job = await submit({ urls: [...denied, fine], concurrency: 6, respectRobots: true });
      const view = await waitForJob(job.id);
      expect(view.status).toBe('completed');
      expect(view.counts).toMatchObject({ total: 5, succeeded: 1, failed: 4, cancelled: 0 });
      const results = new Map((await allResults(job.id)).map((r) => [r.url, r]));
      for (const url of denied) expect(results.get(url)).toEqual(deniedResult(url, code));
      expect(results.get(fine)).toMatchObject({ ok: true, title: 'Fine', attempts: 1 });
      // robots.txt was asked once for the job; no page of that host was requested.
      expect((await robotsRequests(FAILING_HOST)) - before).toBe(1);
      const stats = await originStats(t);
      expect(stats.requests).toBe(1);
      expect(stats.paths).toEqual({ '/page': 1 });
    },
  );
});
