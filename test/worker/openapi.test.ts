// GET /openapi.json describes every /v1 route the app serves, and what the routes really answer
// validates against it; GET /docs renders it with a viewer whose files the worker serves.
// (The document itself is checked against the OpenAPI 3.1 schema in test/node/openapi.test.mjs:
// the validator reads its schema from disk, which workerd cannot.)
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app';
import { MAX_WAIT_S } from '../../src/openapi/paths-jobs';
import { api, origin, submit, waitForJob } from '../support/api';
import { as, newKey } from '../support/keys';
import { type DocChecker, docChecker } from '../support/openapi';
import { cronTick } from '../support/schedules';

type Json = { [key: string]: unknown };

const METHODS = ['get', 'post', 'patch', 'delete', 'put'];
const noToken = { authorization: '' };

let d: DocChecker;
beforeAll(async () => {
  d = await docChecker();
});

/** Every operation of the document: `METHOD /path`, with the operation. */
function operations(): [string, Json][] {
  return Object.entries(d.doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]): [string, Json] => [`${method.toUpperCase()} ${path}`, op as Json]),
  );
}

describe('GET /openapi.json', () => {
  it('is public, cacheable JSON of OpenAPI 3.1 with a bearer scheme', async () => {
    const res = await api('/openapi.json', { headers: noToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const doc = (await res.json()) as Json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect((doc.components as Json).securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
    });
    // The limits a deployment sets are the ones it documents.
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    expect(schemas.JobRequest?.properties).toMatchObject({ urls: { maxItems: 100_000 } });
  });

  it('lists exactly the /v1 routes the app serves, each described', () => {
    const served = buildApp()
      .routes.filter((r) => r.path.startsWith('/v1/') && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = operations().map(([key]) => key);
    expect([...new Set(documented)].sort()).toEqual([...new Set(served)].sort());
    expect(documented.length).toBeGreaterThanOrEqual(15);
    const ids = new Set<unknown>();
    for (const [key, op] of operations()) {
      expect(op.summary, key).toEqual(expect.stringMatching(/\w/));
      expect(op.description, key).toEqual(expect.stringMatching(/\w{3}/));
      expect(op.tags, key).toEqual([expect.any(String)]);
      ids.add(op.operationId);
      const statuses = Object.keys(op.responses as Json);
      expect(
        statuses.some((s) => s.startsWith('2')),
        key,
      ).toBe(true);
      expect(statuses, key).toEqual(expect.arrayContaining(['401', '500', '503']));
      if (key.includes('{id}')) expect(statuses, key).toContain('404');
      if (op.requestBody)
        expect(statuses, key).toEqual(expect.arrayContaining(['400', '413', '415']));
      if (key.includes(' /v1/keys')) expect(statuses, key).toContain('403');
      const params = ((op.parameters ?? []) as Json[]).map((p) => `${p.in}:${p.name}`);
      if (key.includes('{id}')) expect(params, key).toContain('path:id');
    }
    expect(ids.size).toBe(operations().length);
  });

  it('gives every error response the envelope with its own code', () => {
    const codes = Object.keys((d.doc.components as Json).responses as Json);
    expect(codes).toHaveLength(10);
    for (const [i, code] of codes.entries()) {
      const schema = `/components/responses/${code}/content/application~1json/schema`;
      const envelope = (c: string) => ({ error: { code: c, message: 'm', details: [] } });
      expect(d.errorsFor(schema, envelope(code)), code).toBeNull();
      const other = codes[(i + 1) % codes.length] ?? '';
      expect(d.errorsFor(schema, envelope(other)), code).not.toBeNull();
      expect(d.errorsFor('Error', envelope(code)), code).toBeNull();
    }
    expect(d.errorsFor('Error', { error: { code: 'nope', message: 'm' } })).not.toBeNull();
  });
});

describe('live responses validate against the document', () => {
  it('jobs: submit, read, list, results (page and NDJSON), attempts, events, errors', async () => {
    const urls = [origin('/page?title=Doc&links=2'), origin('/status/503')];
    const body = JSON.stringify({ urls, retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 } });
    const created = (await d.check(
      'post',
      '/v1/jobs',
      await api('/v1/jobs', { method: 'POST', body }),
    )) as { id: string };
    await waitForJob(created.id);
    const id = created.id;
    const job = `/v1/jobs/${id}`;
    await d.check('get', '/v1/jobs/{id}', await api(job));
    await d.check('get', '/v1/jobs', await api('/v1/jobs?limit=5'));
    const page = (await d.check('get', '/v1/jobs/{id}/results', await api(`${job}/results`))) as {
      items: unknown[];
    };
    expect(page.items).toHaveLength(2);
    const ndjson = await api(`${job}/results`, { headers: { accept: 'application/x-ndjson' } });
    const lines = String(await d.check('get', '/v1/jobs/{id}/results', ndjson))
      .trim()
      .split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(d.errorsFor('Result', JSON.parse(line))).toBeNull();
    const attempts = (await d.check(
      'get',
      '/v1/jobs/{id}/attempts',
      await api(`${job}/attempts`),
    )) as {
      items: unknown[];
    };
    expect(attempts.items).toHaveLength(1);
    const sse = String(await d.check('get', '/v1/jobs/{id}/events', await api(`${job}/events`)));
    const data = /^event: end\ndata: (.*)$/m.exec(sse)?.[1];
    expect(d.errorsFor('ProgressEvent', JSON.parse(data ?? 'null'))).toBeNull();

    const patch = { method: 'PATCH', body: JSON.stringify({ deadlineMs: 1000 }) };
    await d.check('patch', '/v1/jobs/{id}', await api(job, patch)); // 409: it has ended
    const typo = { method: 'PATCH', body: JSON.stringify({ deadlinems: 1 }) };
    await d.check('patch', '/v1/jobs/{id}', await api(job, typo)); // 400 with details
    await d.check('delete', '/v1/jobs/{id}', await api(job, { method: 'DELETE' }));
    await d.check('delete', '/v1/jobs/{id}', await api(`${job}?purge=true`, { method: 'DELETE' }));
    await d.check('get', '/v1/jobs/{id}', await api(job)); // 404
    await d.check('get', '/v1/jobs/{id}/results', await api(`${job}/results?limit=0`)); // 400
    await d.check('get', '/v1/jobs', await api('/v1/jobs', { headers: noToken })); // 401
  });

  it('jobs: ?wait up to the documented maximum, 415 and 413 bodies', async () => {
    const body = JSON.stringify({ urls: [origin('/page?title=W&links=1')] });
    const waited = await api(`/v1/jobs?wait=${MAX_WAIT_S}`, { method: 'POST', body });
    await d.check('post', '/v1/jobs', waited); // 200
    const over = await api(`/v1/jobs?wait=${MAX_WAIT_S + 1}`, { method: 'POST', body });
    expect(over.status).toBe(400);
    await d.check('post', '/v1/jobs', over);
    const text = { 'content-type': 'text/plain' };
    await d.check(
      'post',
      '/v1/jobs',
      await api('/v1/jobs', { method: 'POST', body, headers: text }),
    );
    const big = JSON.stringify({ deadlineMs: 1, pad: 'x'.repeat(5000) });
    const first = await submit({ urls: [origin('/page?title=B&links=1')] });
    const res = await api(`/v1/jobs/${first.id}`, { method: 'PATCH', body: big });
    expect(res.status).toBe(413);
    await d.check('patch', '/v1/jobs/{id}', res);
  });

  it('keys: create, list, 403 for a key, delete, 404', async () => {
    const body = JSON.stringify({ name: 'openapi' });
    const key = (await d.check(
      'post',
      '/v1/keys',
      await api('/v1/keys', { method: 'POST', body }),
    )) as { id: string; token: string };
    await d.check('get', '/v1/keys', await api('/v1/keys?limit=100'));
    await d.check('get', '/v1/keys', await as(key.token, '/v1/keys')); // 403
    await d.check('delete', '/v1/keys/{id}', await api(`/v1/keys/${key.id}`, { method: 'DELETE' }));
    await d.check('delete', '/v1/keys/{id}', await api(`/v1/keys/${key.id}`, { method: 'DELETE' }));
  });

  it('schedules: create (as a key: its owner), list, read with a run, delete, 404', async () => {
    const key = await newKey({ name: 'openapi schedules' });
    const body = JSON.stringify({
      name: 'doc',
      cron: '* * * * *',
      job: { urls: [origin('/page?title=S&links=1')] },
    });
    const made = (await d.check(
      'post',
      '/v1/schedules',
      await as(key.token, '/v1/schedules', { method: 'POST', body }),
    )) as { id: string; owner: string; nextRunAt: string };
    expect(made.owner).toBe(key.id);
    const path = `/v1/schedules/${made.id}`;
    await cronTick(Date.parse(made.nextRunAt));
    await d.check('get', '/v1/schedules', await as(key.token, '/v1/schedules'));
    const detail = (await d.check('get', '/v1/schedules/{id}', await api(path))) as {
      runs: { status: string; jobId: string }[];
    };
    expect(detail.runs.map((r) => r.status)).toEqual(['started']);
    await waitForJob(detail.runs[0]?.jobId ?? '');
    await d.check(
      'post',
      '/v1/schedules',
      await api('/v1/schedules', { method: 'POST', body: '{}' }),
    );
    await d.check('delete', '/v1/schedules/{id}', await api(path, { method: 'DELETE' }));
    await d.check('delete', '/v1/schedules/{id}', await api(path, { method: 'DELETE' })); // 404
  });
});

describe('GET /docs', () => {
  it('answers a public page whose every script and stylesheet the worker serves', async () => {
    const res = await api('/docs', { headers: noToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const refs = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map(
      (m) => m[1] ?? '',
    );
    expect(refs).toHaveLength(3);
    for (const ref of refs) {
      expect(ref, 'served from this origin, no CDN').toMatch(/^\/docs\//);
      const asset = await api(ref, { headers: noToken });
      expect(asset.status, ref).toBe(200);
      expect(asset.headers.get('content-type'), ref).toMatch(/^text\/(javascript|css)/);
      expect(asset.headers.get('cache-control'), ref).toMatch(/^public, max-age=\d+/);
      const text = await asset.text();
      expect(text, ref).not.toContain('sourceMappingURL');
      if (ref.endsWith('init.js')) expect(text).toContain("url: '/openapi.json'");
      else expect(text.length, ref).toBeGreaterThan(100_000);
    }
  });
});
