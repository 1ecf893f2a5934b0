// Result filters (`ok`, `kind`) on pages and streams, and Results as CSV read back by a real
// CSV parser.
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/jobs/types';
import { csvField, csvHeader } from '../../src/lib/csv';
import { api, origin, submit, tag, waitForJob } from '../support/api';

const t = tag('filters');
const hostile = 'Commas, "quotes" and, more';
const ok = [
  origin(`/page?tag=${t}&title=${encodeURIComponent(hostile)}`),
  origin(`/page?tag=${t}&title=Plain`),
  origin(`/page?tag=${t}&title=Third`),
];
const gone = [0, 1].map((i) => origin(`/status/404?tag=${t}&i=${i}`));
const slow = origin(`/hang?tag=${t}`);
let id = '';

beforeAll(async () => {
  const job = await submit({
    urls: [...ok, ...gone, slow],
    timeoutMs: 300,
    retry: { maxAttempts: 1 },
    extract: { selectors: { heading: 'title', missing: 'h6' } },
  });
  id = job.id;
  await waitForJob(id);
});

/** Every Result of the job through JSON pages of `limit`, with the filter query `q`. */
async function paged(q: string, limit: number): Promise<Result[]> {
  const out: Result[] = [];
  let cursor = '';
  for (let i = 0; i < 20; i++) {
    const res = await api(`/v1/jobs/${id}/results?limit=${limit}&cursor=${cursor}&${q}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Result[]; nextCursor: string | null };
    out.push(...page.items);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
  throw new Error('too many pages');
}

const urls = (rs: Result[]) => rs.map((r) => r.url).sort();

describe('result filters', () => {
  it('ok and kind select, combine, and page with small limits', async () => {
    expect(urls(await paged('ok=true', 1))).toEqual([...ok].sort());
    expect(urls(await paged('ok=false', 2))).toEqual([...gone, slow].sort());
    expect(urls(await paged('kind=http_status', 1))).toEqual([...gone].sort());
    expect(urls(await paged('ok=false&kind=timeout', 1))).toEqual([slow]);
    expect(await paged('ok=true&kind=timeout', 1)).toEqual([]);
    expect(await paged('', 100)).toHaveLength(6);
  });

  it('filter the NDJSON stream too', async () => {
    const res = await api(`/v1/jobs/${id}/results?ok=false`, {
      headers: { accept: 'application/x-ndjson' },
    });
    const lines = (await res.text()).trim().split('\n');
    expect(urls(lines.map((l) => JSON.parse(l) as Result))).toEqual([...gone, slow].sort());
  });

  it.each([
    ['kind=flaky', /^kind: expected one of timeout, network,/],
    ['ok=yes', /^ok: expected true or false$/],
    ['format=xml', /^format: expected json, ndjson or csv$/],
  ])('refuses %s with a 400', async (q, re) => {
    const res = await api(`/v1/jobs/${id}/results?${q}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(re);
  });
});

describe('CSV', () => {
  it('streams a header row and one row per Result, which a CSV parser reads back', async () => {
    const res = await api(`/v1/jobs/${id}/results`, { headers: { accept: 'text/csv' } });
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    const text = await res.text();
    expect(text.split('\r\n')[0]).toBe(
      'url,finalUrl,ok,status,contentType,title,links,bytes,attempts,durationMs,fetchedAt,' +
        'errorKind,errorMessage,contentHash,notModified,changed,data.heading,data.missing',
    );
    const parsed = Papa.parse<Record<string, string>>(text.trimEnd(), { header: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data).toHaveLength(6);
    const first = parsed.data.find((r) => r.url === ok[0]);
    expect(first).toMatchObject({
      ok: 'true',
      status: '200',
      title: hostile,
      'data.heading': hostile,
      'data.missing': '',
      errorKind: '',
    });
    const timedOut = parsed.data.find((r) => r.url === slow);
    expect(timedOut).toMatchObject({ ok: 'false', status: '', errorKind: 'timeout' });
    expect(timedOut?.errorMessage).toBe('timed out after 300 ms');
  });

  it('?format=csv with a filter gives only those rows', async () => {
    const res = await api(`/v1/jobs/${id}/results?format=csv&kind=http_status`);
    const rows = Papa.parse<Record<string, string>>((await res.text()).trimEnd(), { header: true });
    expect(rows.data.map((r) => r.url).sort()).toEqual([...gone].sort());
  });

  it('quotes what needs quoting, so commas, quotes and line breaks round-trip', () => {
    const values = ['a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', 'plain', ''];
    const line = `${values.map(csvField).join(',')}\r\n`;
    expect(Papa.parse<string[]>(line.trimEnd()).data).toEqual([values]);
    expect(csvField(null)).toBe('');
    expect(csvField(false)).toBe('false');
    expect(csvHeader(['x'])).toMatch(/,data\.x\r\n$/);
  });
});
