import { createExecutionContext, listDurableObjectIds } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src';
import type { Result } from '../../src/jobs/types';
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
import { until } from '../support/time';

const byUrl = (results: Result[]) => new Map(results.map((r) => [r.url, r]));

describe('POST /v1/jobs then results: extraction and failure kinds', () => {
  it('settles every URL with one honest Result', async () => {
    const urls = [
      origin('/fixture/entities'),
      origin('/fixture/tricky-links'),
      origin('/fixture/no-title'),
      origin('/text'),
      origin('/status/404'),
      origin('/hang'),
      origin('/bytes?n=300000'),
      origin('/chain/2'),
      origin('/loop/a'),
      origin('/page?title=Hello&links=7'),
    ];
    const job = await submit({
      urls,
      concurrency: 4,
      timeoutMs: 800,
      maxBytes: 100_000,
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      extract: { selectors: { heading: 'h1' } },
    });
    expect(job.accepted).toBe(urls.length);
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    expect(view.counts.total).toBe(urls.length);
    const results = await allResults(job.id);
    expect(results).toHaveLength(urls.length);
    const r = byUrl(results);
    const get = (u: string) => {
      const res = r.get(u);
      if (!res) throw new Error(`no result for ${u}`);
      return res;
    };

    const page = get(origin('/page?title=Hello&links=7'));
    expect(page).toMatchObject({ ok: true, status: 200, title: 'Hello', links: 7, attempts: 1 });
    expect(page.bytes).toBeGreaterThan(0);
    expect(page.fetchedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(page.error).toBeNull();

    expect(get(origin('/fixture/entities')).title).toContain('&');
    expect(get(origin('/fixture/no-title')).title).toBeNull();
    expect(get(origin('/text'))).toMatchObject({ ok: true, title: null, links: 0 });
    expect(get(origin('/status/404'))).toMatchObject({
      ok: false,
      status: 404,
      attempts: 1,
      error: { kind: 'http_status' },
    });
    expect(get(origin('/hang')).error?.kind).toBe('timeout');
    expect(get(origin('/bytes?n=300000')).error?.kind).toBe('too_large');
    const chain = get(origin('/chain/2'));
    expect(chain.ok).toBe(true);
    expect(chain.finalUrl).toBe(origin('/chain/0'));
    expect(get(origin('/loop/a')).error?.kind).toBe('redirect_loop');
    expect(view.counts.succeeded + view.counts.failed).toBe(urls.length);
    // The latency quantiles are those of the Results' durations (nearest rank; the histogram
    // is within 1/64 of a value, exact below 64 ms), and the bytes their sum.
    const durations = results
      .map((x) => x.durationMs)
      .filter((d) => d > 0)
      .sort((x, y) => x - y);
    const nearestRank = (q: number) => durations[Math.ceil(q * durations.length) - 1] ?? -1;
    for (const [q, got] of [
      [0.5, view.stats.p50Ms],
      [0.95, view.stats.p95Ms],
    ] as const) {
      const want = nearestRank(q);
      expect(Math.abs((got ?? -1) - want)).toBeLessThanOrEqual(Math.max(1, want / 64));
    }
    expect(view.stats.bytes).toBe(results.reduce((sum, x) => sum + x.bytes, 0));
  });

  it('keeps the origin under the job concurrency', async () => {
    const t = tag('conc');
    // Gate pages wait until the test opens the gate: the job's 3 connections fill up and the
    // test sees them, whatever the machine's pace; then every page answers at once.
    const urls = Array.from({ length: 24 }, (_, i) => origin(`/gate?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 3 });
    await until(async () => (await originStats(t)).inFlight >= 3, 10_000, '3 fetches in flight');
    expect((await fetch(origin(`/__open?tag=${t}`))).status).toBe(200);
    const view = await waitForJob(job.id);
    expect(view.counts.succeeded).toBe(24);
    const stats = await originStats(t);
    expect(stats.requests).toBe(24);
    expect(stats.maxInFlight).toBe(3);
  });

  it('answers 200 with ?wait when the job finishes in time', async () => {
    const res = await api('/v1/jobs?wait=10', {
      method: 'POST',
      body: JSON.stringify({ urls: [origin('/page?title=W&links=1')] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; status: string };
    expect(body.status).toBe('completed');
    expect(res.headers.get('location')).toBe(`/v1/jobs/${body.id}`);
  });

  it('fetches duplicate URLs once and counts them', async () => {
    const a = origin('/page?title=D&links=0');
    const job = await submit({ urls: [a, `${a}#frag`, a.replace('http://', 'HTTP://')] });
    expect(job).toMatchObject({ accepted: 1, duplicates: 2 });
    await waitForJob(job.id);
    const results = await allResults(job.id);
    expect(results.map((r) => r.url)).toEqual([a]);
  });
});

describe('pagination and NDJSON', () => {
  it('return every result exactly once', async () => {
    const urls = Array.from({ length: 230 }, (_, i) => origin(`/page?title=P${i}&links=${i % 5}`));
    const job = await submit({ urls, concurrency: 30 });
    await waitForJob(job.id);
    const paged = await allResults(job.id, 37);
    expect(paged).toHaveLength(230);
    expect(new Set(paged.map((r) => r.url))).toEqual(new Set(urls));
    for (const r of paged) expect(r.title).toBe(`P${urls.indexOf(r.url)}`);

    const res = await api(`/v1/jobs/${job.id}/results`, {
      headers: { accept: 'application/x-ndjson' },
    });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n');
    expect(lines).toHaveLength(230);
    const streamed = lines.map((l) => JSON.parse(l) as Result);
    expect(new Set(streamed.map((r) => r.url))).toEqual(new Set(urls));
  });

  it('rejects a forged cursor and a bad limit', async () => {
    const job = await submit({ urls: [origin('/text')] });
    expect((await api(`/v1/jobs/${job.id}/results?cursor=zzz`)).status).toBe(400);
    expect((await api(`/v1/jobs/${job.id}/results?limit=0`)).status).toBe(400);
  });
});

describe('cancel', () => {
  it('stops a running job, aborts in-flight fetches, and is idempotent', async () => {
    const t = tag('cancel');
    const urls = Array.from({ length: 10 }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 3, timeoutMs: 60_000 });
    await until(async () => (await originStats(t)).inFlight >= 3, 10_000, '3 fetches in flight');
    const res = await api(`/v1/jobs/${job.id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('cancelled');
    const view = await getJob(job.id);
    expect(view.counts).toMatchObject({ total: 10, cancelled: 10, inFlight: 0, queued: 0 });
    const results = await allResults(job.id);
    expect(results).toHaveLength(10);
    expect(results.every((r) => r.error?.kind === 'cancelled')).toBe(true);
    await until(async () => (await originStats(t)).aborted >= 3, 5_000, '3 fetches cut off');
    expect((await originStats(t)).aborted).toBe(3);
    const again = await api(`/v1/jobs/${job.id}`, { method: 'DELETE' });
    expect(again.status).toBe(200);
    expect(await allResults(job.id)).toEqual(results);
  });

  it('leaves a finished job and its results alone', async () => {
    const job = await submit({ urls: [origin('/page?title=Done'), origin('/status/404')] });
    const done = await waitForJob(job.id);
    expect(done.status).toBe('completed');
    const results = await allResults(job.id);
    const res = await api(`/v1/jobs/${job.id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    const view = (await res.json()) as { status: string; counts: Record<string, number> };
    expect(view.status).toBe('completed');
    expect(view.counts).toMatchObject({ succeeded: 1, failed: 1, cancelled: 0 });
    expect(await allResults(job.id)).toEqual(results);
  });
});

describe('bad input', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['malformed JSON', '{"urls": [', /not valid JSON/],
    ['not an object', '[1,2]', /expected a JSON object/],
    ['no urls field', '{}', /^urls:/],
    ['zero URLs', '{"urls": []}', /^urls: at least one/],
    [
      'a non-http URL',
      '{"urls": ["https://ok.test/", "ftp://x.test/"]}',
      /^urls\[1\]: not an http/,
    ],
    ['a relative URL', '{"urls": ["/path"]}', /^urls\[0\]:/],
    ['a URL of the wrong type', '{"urls": [42]}', /^urls\[0\]: expected a string/],
    [
      'concurrency of the wrong type',
      '{"urls": ["https://a.test/"], "concurrency": "5"}',
      /^concurrency:/,
    ],
    [
      'concurrency out of range',
      '{"urls": ["https://a.test/"], "concurrency": 0}',
      /^concurrency:/,
    ],
    ['a bad mode', '{"urls": ["https://a.test/"], "mode": "yolo"}', /^mode:/],
    [
      'a bad nested field',
      '{"urls": ["https://a.test/"], "retry": {"maxAttempts": -1}}',
      /^retry\.maxAttempts:/,
    ],
    [
      'an unknown field',
      '{"urls": ["https://a.test/"], "concurency": 5}',
      /unknown field.*concurency/,
    ],
    [
      'an invalid selector',
      '{"urls": ["https://a.test/"], "extract": {"selectors": {"x": "h1[[["}}}',
      /^extract\.selectors\.x:/,
    ],
    [
      'a selector named __proto__ (it would be dropped without a word)',
      '{"urls": ["https://a.test/"], "extract": {"selectors": {"__proto__": "h1"}}}',
      /^extract\.selectors\.__proto__: not a usable name/,
    ],
    [
      'a header named __proto__',
      '{"urls": ["https://a.test/"], "headers": {"__proto__": "x"}}',
      /^headers\.__proto__: not a usable name/,
    ],
  ];

  it.each(bad)(
    '%s gets a 400 envelope naming the field, and creates nothing',
    async (_n, body, re) => {
      const before = (await listDurableObjectIds(env.JOB_COORDINATOR)).length;
      const res = await api('/v1/jobs', {
        method: 'POST',
        body,
        headers: { 'idempotency-key': `bad-${_n}` },
      });
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBe('invalid_request');
      expect(json.error.message).toMatch(re);
      expect((await listDurableObjectIds(env.JOB_COORDINATOR)).length).toBe(before);
    },
  );

  it('refuses more URLs than MAX_URLS_PER_JOB', async () => {
    const urls = Array.from({ length: 100_001 }, (_, i) => `https://a.test/${i}`);
    const res = await api('/v1/jobs', { method: 'POST', body: JSON.stringify({ urls }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^urls: at most 100000/,
    );
  });

  it('refuses a body over 16 MiB with 413', async () => {
    const body = `{"urls": ["https://a.test/${'x'.repeat(17 * 1024 * 1024)}"]}`;
    const res = await api('/v1/jobs', { method: 'POST', body });
    expect(res.status).toBe(413);
    const json = (await res.json()) as { error: { code: string } };
    expect(json.error.code).toBe('payload_too_large');
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await api('/v1/jobs', {
      method: 'POST',
      body: 'urls=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'unsupported_media_type',
    );
  });
});

describe('auth and not found', () => {
  it('answers 401 without a token or with a wrong one', async () => {
    for (const authorization of ['', 'Bearer nope', 'Basic dGVzdA==']) {
      const res = await api('/v1/jobs/j000000000abcdefabcdef', { headers: { authorization } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
  });

  it('answers 404 for unknown jobs, in the envelope', async () => {
    for (const id of ['j000000000abcdefabcdef', 'nope']) {
      for (const [method, suffix] of [
        ['GET', ''],
        ['GET', '/results'],
        ['DELETE', ''],
      ] as const) {
        const res = await api(`/v1/jobs/${id}${suffix}`, { method });
        expect(res.status).toBe(404);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
      }
    }
  });
});

describe('GET /v1/jobs', () => {
  it('lists jobs newest first with their live status, paginated', async () => {
    const jobs: Array<{ id: string; createdAt: number }> = [];
    for (let i = 0; i < 3; i++) {
      const { id } = await submit({ urls: [origin(`/text?list=${i}`)] });
      const createdAt = Date.parse((await getJob(id)).createdAt);
      jobs.push({ id, createdAt });
      // The list orders by createdAt, then id: the next job is created on a later
      // millisecond, so the order shows creation order, not the ids' random part.
      await until(() => Date.now() > createdAt, 1_000, 'the clock to move on');
    }
    expect(jobs.map((j) => j.createdAt)).toEqual(
      [...jobs.map((j) => j.createdAt)].sort((x, y) => x - y),
    );
    expect(new Set(jobs.map((j) => j.createdAt)).size).toBe(3);
    const ids = jobs.map((j) => j.id);
    const first = await api('/v1/jobs?limit=2');
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as {
      items: Array<{ id: string; status: string }>;
      nextCursor: string;
    };
    expect(page1.items.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    expect(page1.items[0]?.status).toMatch(/queued|running|completed/);
    const second = await api(`/v1/jobs?limit=2&cursor=${page1.nextCursor}`);
    const page2 = (await second.json()) as { items: Array<{ id: string }> };
    expect(page2.items[0]?.id).toBe(ids[0]);
    expect((await api('/v1/jobs?limit=0')).status).toBe(400);
  });
});

describe('Idempotency-Key', () => {
  it('returns the same job for the same key and body, 409 for another body', async () => {
    const body = { urls: [origin('/text?k=1')] };
    const key = { 'idempotency-key': tag('idem') };
    const a = await submit(body, key);
    const b = await submit(body, key);
    expect(b.id).toBe(a.id);
    const c = await api('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ urls: [origin('/json')] }),
      headers: key,
    });
    expect(c.status).toBe(409);
  });

  it('is stored, not derived from the token: a rotated API_TOKEN still finds the same job', async () => {
    const body = JSON.stringify({ urls: [origin('/text?k=rotate')] });
    const key = tag('idem-rotate');
    const post = (token: string) =>
      worker.fetch(
        new Request('http://api.test/v1/jobs', {
          method: 'POST',
          body,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
        }),
        { ...env, API_TOKEN: token },
        createExecutionContext(),
      );
    const a = (await (await post('token-before')).json()) as { id: string };
    const b = await post('token-after');
    expect(b.status).toBe(202);
    expect(((await b.json()) as { id: string }).id).toBe(a.id);
    // A new job's id, not one derived from the key.
    expect(a.id).toMatch(/^j[0-9a-z]{21}$/);
    // Without the key, the same body is another job.
    expect((await submit(JSON.parse(body))).id).not.toBe(a.id);
  });
});
