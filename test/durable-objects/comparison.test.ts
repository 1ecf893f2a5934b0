// The comparison's SQL in a real SQLite: a terminal job's Results read as pages, imported by
// the job compared with it, and a new Result's `changed` and carried-forward fields.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  type CompareState,
  Comparison,
  newCompareState,
  type PriorPage,
  readPriorPage,
} from '../../src/coordinator/comparison';
import { COORDINATOR_MIGRATIONS } from '../../src/coordinator/migrations';
import { UrlStore } from '../../src/coordinator/url-store';
import type { JobSpec, Result } from '../../src/jobs/types';
import { Sql } from '../../src/lib/sql';
import { resultOf } from '../support/outcomes';

const EXTRACT: Pick<JobSpec, 'extract'> = { extract: { selectors: { h: 'h1' }, links: true } };
const H = (c: string) => `sha256:${c.repeat(64)}`;

/** An ok Result of `url` with its own title, heading and link (a previous job's, say). */
function result(url: string, over: Partial<Result> = {}): Result {
  return resultOf(url, {
    title: `title of ${url}`,
    links: 1,
    bytes: 10,
    durationMs: 5,
    fetchedAt: '2026-12-02T00:00:00.000Z',
    data: { h: `h1 of ${url}` },
    linkUrls: [`${url}/next`],
    ...over,
  });
}

/** A fresh coordinator database holding `urls` (their own normal form). */
function database(state: DurableObjectState, urls: string[]): { sql: Sql; store: UrlStore } {
  const sql = new Sql(state.storage.sql);
  sql.migrate(COORDINATOR_MIGRATIONS);
  const store = new UrlStore(sql);
  store.insert(urls, urls, () => 1);
  return { sql, store };
}

function coordinator() {
  return env.JOB_COORDINATOR.getByName(`compare-sql-${crypto.randomUUID()}`);
}

/** Every page of a previous job whose Results are `results` (one per URL, in URL order). */
async function previousPages(results: Result[], extract = EXTRACT): Promise<PriorPage[]> {
  return runInDurableObject(coordinator(), (_i, state) => {
    const { sql, store } = database(
      state,
      results.map((r) => r.url),
    );
    store.writeResults(results.map((result, idx) => ({ idx, result })));
    const pages: PriorPage[] = [];
    let after = newCompareState().after;
    for (let more = true; more; ) {
      const page = readPriorPage(sql, extract, after);
      pages.push(page);
      after = page.last;
      more = page.more;
    }
    return pages;
  });
}

describe('comparison with a previous job', () => {
  const a = 'http://h/a';
  const b = 'http://h/b';
  const c = 'http://h/c';
  const gone = 'http://h/gone';
  const previous = [
    result(a, { etag: '"a1"', contentHash: H('a') }),
    result(b, { lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', contentHash: H('b') }),
    result(c, {
      ok: false,
      title: null,
      data: null,
      linkUrls: null,
      error: { kind: 'timeout', message: 'timed out' },
    }),
    result(gone, { etag: '"g"', contentHash: H('9') }),
  ];

  it('imports the previous Results by URL: validators, gone and new, changed per Result', async () => {
    const pages = await previousPages(previous);
    expect(pages).toHaveLength(1);
    expect(pages[0]?.count).toBe(4);
    const out = await runInDurableObject(coordinator(), (_i, state) => {
      const fresh = 'http://h/new';
      const { sql } = database(state, [a, b, c, fresh]);
      const comparison = new Comparison(sql, newCompareState(), EXTRACT);
      sql.run(
        'INSERT INTO job (id, job_id, spec, body_hash, status, created_at, total, duplicates) VALUES (1, ?, ?, ?, ?, ?, ?, ?)',
        'j',
        '{}',
        'x',
        'queued',
        0,
        4,
        0,
      );
      for (const page of pages) comparison.importPage(page);
      const validators = Object.fromEntries(comparison.validators([0, 1, 2, 3]));
      const settled = [
        // a: a 304 carries the previous Result's content forward
        {
          idx: 0,
          result: result(a, {
            status: 304,
            notModified: true,
            title: null,
            links: 0,
            data: { h: null },
            linkUrls: null,
            etag: null,
            bytes: 0,
          }),
        },
        // b: fetched in full, another hash
        { idx: 1, result: result(b, { contentHash: H('c') }) },
        // c: the previous Result failed: nothing to compare with
        { idx: 2, result: result(c, { contentHash: H('d') }) },
        // new: not in the previous job
        { idx: 3, result: result(fresh, { contentHash: H('e') }) },
      ];
      comparison.annotate(settled);
      for (const s of settled) comparison.count(s.result);
      const stored = sql.one<{ compare: string }>('SELECT compare FROM job');
      return {
        validators,
        results: settled.map((s) => s.result),
        changes: comparison.changes(4),
        state: JSON.parse(stored?.compare ?? 'null') as CompareState,
      };
    });
    expect(out.validators).toEqual({
      0: { etag: '"a1"' },
      1: { lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT' },
    });
    expect(out.results[0]).toMatchObject({
      title: `title of ${a}`,
      links: 1,
      data: { h: `h1 of ${a}` },
      linkUrls: [`${a}/next`],
      contentHash: H('a'),
      etag: '"a1"',
      notModified: true,
      changed: false,
    });
    expect(out.results.map((r) => r.changed)).toEqual([false, true, null, null]);
    expect(out.changes).toEqual({ changed: 1, unchanged: 1, new: 1, gone: 1 });
    expect(out.state).toEqual({ after: 3, done: true, gone: 1, known: 3, conditional: true });
  });

  it('reads a large job in pages bounded by rows, each URL once', async () => {
    const many = Array.from({ length: 2_345 }, (_, i) =>
      result(`http://h/${i}`, { etag: `"${i}"`, contentHash: H('f') }),
    );
    const pages = await previousPages(many);
    expect(pages.map((p) => p.count)).toEqual([1_000, 1_000, 345]);
    expect(pages.map((p) => p.more)).toEqual([true, true, false]);
    const norms = pages.flatMap((p) => (JSON.parse(p.rows) as unknown[][]).map((r) => r[0]));
    expect(new Set(norms).size).toBe(2_345);
  });

  it('resumes an import cut off after its first page from the state stored with it', async () => {
    const many = Array.from({ length: 2_100 }, (_, i) =>
      result(`http://h/${i}`, { etag: `"${i}"`, contentHash: H('f') }),
    );
    const pages = await previousPages(many);
    const out = await runInDurableObject(coordinator(), (_i, state) => {
      // This job has the even half of the previous URLs and 10 of its own.
      const mine = [
        ...many.filter((_, i) => i % 2 === 0).map((r) => r.url),
        ...Array.from({ length: 10 }, (_, i) => `http://h/new-${i}`),
      ];
      const { sql } = database(state, mine);
      sql.run(
        'INSERT INTO job (id, job_id, spec, body_hash, status, created_at, total, duplicates) VALUES (1, ?, ?, ?, ?, ?, ?, ?)',
        'j',
        '{}',
        'x',
        'queued',
        0,
        mine.length,
        0,
      );
      new Comparison(sql, newCompareState(), EXTRACT).importPage(pages[0] as PriorPage);
      // A restart: the comparison is loaded again from the job row, and goes on from there.
      const stored = JSON.parse(
        sql.one<{ compare: string }>('SELECT compare FROM job')?.compare ?? 'null',
      ) as CompareState;
      const resumed = new Comparison(sql, stored, EXTRACT);
      const next = pages.findIndex((p) => p.last === stored.after) + 1;
      for (const page of pages.slice(next)) resumed.importPage(page);
      const rows = sql.one<{ n: number }>('SELECT count(*) AS n FROM prior')?.n;
      return { stored, next, ready: resumed.ready, changes: resumed.changes(mine.length), rows };
    });
    expect(out.stored).toMatchObject({ after: 999, done: false, known: 500, gone: 500 });
    expect(out.next).toBe(1);
    expect(out.ready).toBe(true);
    expect(out.rows).toBe(1_050);
    expect(out.changes).toEqual({ changed: 0, unchanged: 0, new: 10, gone: 1_050 });
  });

  it('sends no conditional request when the two jobs extract different things', async () => {
    const pages = await previousPages(previous, { extract: { selectors: {} } });
    const validators = await runInDurableObject(coordinator(), (_i, state) => {
      const { sql } = database(state, [a, b]);
      sql.run(
        'INSERT INTO job (id, job_id, spec, body_hash, status, created_at, total, duplicates) VALUES (1, ?, ?, ?, ?, ?, ?, ?)',
        'j',
        '{}',
        'x',
        'queued',
        0,
        2,
        0,
      );
      const comparison = new Comparison(sql, newCompareState(), EXTRACT);
      for (const page of pages) comparison.importPage(page);
      return comparison.validators([0, 1]).size;
    });
    expect(validators).toBe(0);
  });
});
