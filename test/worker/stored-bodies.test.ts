// Stored bodies (`store: {bodies: true}`): each ok HTML body is kept in R2 under
// <job id>/<sha256>, read back byte for byte through GET /v1/jobs/:id/bodies/:hash (decoded, with
// the page's own Content-Type), scoped like every job route, and deleted with the job.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/jobs/types';
import { toHex } from '../../src/lib/hex';
import { allResults, api, origin, submit, tag, waitForJob } from '../support/api';
import { as, newKey } from '../support/keys';
import { type DocChecker, docChecker } from '../support/openapi';

/** More than one R2 part (5 MiB), so the body is assembled from a multipart upload. */
const LARGE = 6_000_000;

const sha256 = async (bytes: ArrayBuffer | Uint8Array) =>
  toHex(await crypto.subtle.digest('SHA-256', bytes));

async function keysUnder(jobId: string): Promise<string[]> {
  const listed = await env.BODIES.list({ prefix: `${jobId}/` });
  return listed.objects.map((o) => o.key);
}

/** The hex of a Result's `contentHash` (`sha256:<hex>`), asserting it has one. */
function hexOf(result: Result | undefined): string {
  const hash = result?.contentHash ?? '';
  expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  return hash.slice('sha256:'.length);
}

/** Where two byte arrays first differ (the shorter one's length if one is a prefix), or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string } }).error;

let doc: DocChecker;
beforeAll(async () => {
  doc = await docChecker();
});

describe('store: {bodies: true}', () => {
  const t = tag('bodies');
  const urls = {
    small: origin(`/page?title=Stored&links=2&tag=${t}`),
    gzip: origin(`/gzip?title=Zipped&pad=20000&tag=${t}`),
    large: origin(`/bytes?n=${LARGE}&chunked=1&tag=${t}`),
    same: origin(`/page?title=Stored&links=2&tag=${t}&again=1`),
  };
  let jobId = '';
  let byUrl = new Map<string, Result>();

  beforeAll(async () => {
    const job = await submit({
      urls: Object.values(urls),
      maxBytes: 8_000_000,
      store: { bodies: true },
    });
    jobId = job.id;
    expect((await waitForJob(jobId)).counts.succeeded).toBe(4);
    byUrl = new Map((await allResults(jobId)).map((r) => [r.url, r]));
  });

  it('serves each body byte for byte, decoded, with the page’s Content-Type', async () => {
    for (const [name, url] of Object.entries(urls)) {
      const result = byUrl.get(url);
      const hex = hexOf(result);
      // What the origin sends, decoded (the fetch of workerd undoes Content-Encoding: gzip).
      const expected = new Uint8Array(await (await fetch(url)).arrayBuffer());
      expect(await sha256(expected), name).toBe(hex);
      const res = await api(`/v1/jobs/${jobId}/bodies/${hex}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type'), name).toBe(result?.contentType);
      expect(res.headers.get('content-length'), name).toBe(String(expected.byteLength));
      expect(res.headers.get('etag'), name).toBe(`"${hex}"`);
      expect(res.headers.get('cache-control'), name).toContain('private');
      // Compared by hand: a deep equality of megabytes takes vitest far too long.
      expect(firstDifference(new Uint8Array(await res.arrayBuffer()), expected), name).toBe(-1);
    }
  });

  it('keeps the decoded bytes of a gzip-encoded page', async () => {
    const sent = await fetch(urls.gzip, { headers: { 'accept-encoding': 'gzip' } });
    expect(sent.headers.get('content-encoding')).toBe('gzip');
    const decoded = await sent.text();
    expect(decoded).toContain('<title>Zipped</title>');
    const res = await api(`/v1/jobs/${jobId}/bodies/${hexOf(byUrl.get(urls.gzip))}`);
    expect(await res.text()).toBe(decoded);
  });

  it('keeps one object per distinct body, and no temporary one', async () => {
    expect(hexOf(byUrl.get(urls.same))).toBe(hexOf(byUrl.get(urls.small)));
    const hexes = [urls.small, urls.gzip, urls.large].map((u) => hexOf(byUrl.get(u)));
    expect((await keysUnder(jobId)).sort()).toEqual(hexes.map((h) => `${jobId}/${h}`).sort());
    expect((await env.BODIES.head(`${jobId}/${hexOf(byUrl.get(urls.large))}`))?.size).toBe(LARGE);
  });

  it('answers 404 for a hash the job did not store, 400 for one that is not a SHA-256', async () => {
    const unknown = 'f'.repeat(64);
    const missing = await api(`/v1/jobs/${jobId}/bodies/${unknown}`);
    expect(missing.status).toBe(404);
    const error = (await doc.check('get', '/v1/jobs/{id}/bodies/{hash}', missing)) as {
      error: { code: string; message: string };
    };
    expect(error.error.code).toBe('not_found');
    expect(error.error.message).toContain(unknown);
    for (const bad of ['F'.repeat(64), 'f'.repeat(63), `sha256:${'f'.repeat(64)}`]) {
      const res = await api(`/v1/jobs/${jobId}/bodies/${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect((await errorOf(res)).code, bad).toBe('invalid_request');
    }
    const noJob = await api(`/v1/jobs/j0000000000000000000000/bodies/${unknown}`);
    expect(noJob.status).toBe(404);
  });
});

describe('stored bodies and ownership', () => {
  it('another API key’s job answers 404; its owner and the admin read the body', async () => {
    const owner = await newKey({ name: tag('bodies-owner') });
    const other = await newKey({ name: tag('bodies-other') });
    const url = origin(`/page?title=Mine&tag=${tag('own')}`);
    const res = await as(owner.token, '/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ urls: [url], store: { bodies: true } }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitForJob(id);
    const [result] = await allResults(id);
    const path = `/v1/jobs/${id}/bodies/${hexOf(result)}`;
    const foreign = await as(other.token, path);
    expect(foreign.status).toBe(404);
    expect(await errorOf(foreign)).toEqual({ code: 'not_found', message: `no job ${id}` });
    expect((await as(owner.token, path)).status).toBe(200);
    expect((await api(path)).status).toBe(200);
  });
});

describe('a job without store.bodies', () => {
  it('keeps no body: the Result has its hash, the route answers 404', async () => {
    const job = await submit({ urls: [origin(`/page?title=Unstored&tag=${tag('none')}`)] });
    await waitForJob(job.id);
    const [result] = await allResults(job.id);
    expect(await keysUnder(job.id)).toEqual([]);
    const res = await api(`/v1/jobs/${job.id}/bodies/${hexOf(result)}`);
    expect(res.status).toBe(404);
  });
});

describe('purge', () => {
  it('deletes the job’s bodies with it: the bucket holds nothing under its prefix', async () => {
    const t = tag('purge');
    const job = await submit({
      urls: [origin(`/page?title=P1&tag=${t}`), origin(`/page?title=P2&tag=${t}`)],
      store: { bodies: true },
    });
    await waitForJob(job.id);
    const results = await allResults(job.id);
    // A leftover of a failed store (a temporary object) goes with the job too.
    await env.BODIES.put(`${job.id}/tmp/leftover`, 'x');
    expect(await keysUnder(job.id)).toHaveLength(3);
    const purged = await api(`/v1/jobs/${job.id}?purge=true`, { method: 'DELETE' });
    expect(purged.status).toBe(200);
    expect(await keysUnder(job.id)).toEqual([]);
    const res = await api(`/v1/jobs/${job.id}/bodies/${hexOf(results[0])}`);
    expect(res.status).toBe(404);
  });
});
