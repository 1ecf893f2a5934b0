// Results pages are bounded by bytes as well as rows: a site that fills every field to its cap
// cannot make a page too large to read (or an RPC answer too large to send).
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { UrlStore } from '../../src/coordinator/url-store';
import type { Result } from '../../src/jobs/types';
import { Sql } from '../../src/lib/sql';
import { allResults, api, origin, submit, waitForJob } from '../support/api';

/** The budget of one page (src/coordinator/job-view.ts). */
const PAGE_BYTES = 4 * 1024 * 1024;
const utf8 = (s: string) => new TextEncoder().encode(s).length;

describe('a results page', () => {
  it('holds at most 4 MiB of Results; the cursor and the NDJSON stream give the rest', async () => {
    // Each Result carries a 2,000-character title and 20 selector fields of 2,000 characters:
    // about 42 KB, so 130 of them need two pages.
    const selectors = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, 'title']));
    const urls = Array.from({ length: 130 }, (_, i) =>
      origin(`/page?title=%C3%A9x&repeat=1500&n=${i}`),
    );
    const job = await submit({ urls, concurrency: 20, extract: { selectors } });
    expect((await waitForJob(job.id)).counts.succeeded).toBe(130);

    const res = await api(`/v1/jobs/${job.id}/results?limit=1000`);
    const text = await res.text();
    const first = JSON.parse(text) as { items: Result[]; nextCursor: string | null };
    expect(first.items.length).toBeGreaterThan(1);
    expect(first.items.length).toBeLessThan(130);
    expect(first.items[0]?.title).toHaveLength(2_000);
    // The page is its Results, the commas between them and a short envelope around.
    expect(utf8(text)).toBeLessThanOrEqual(PAGE_BYTES + first.items.length + 200);
    // Cut short of the bound by less than one more Result.
    const one = utf8(JSON.stringify(first.items[0]));
    expect(utf8(text)).toBeGreaterThan(PAGE_BYTES - one - 1_000);
    expect(first.nextCursor).not.toBe(null);

    const all = await allResults(job.id);
    expect(new Set(all.map((r) => r.url)).size).toBe(130);
    expect(all).toHaveLength(130);

    const stream = await api(`/v1/jobs/${job.id}/results`, {
      headers: { accept: 'application/x-ndjson' },
    });
    const lines = (await stream.text()).trim().split('\n');
    expect(new Set(lines.map((l) => (JSON.parse(l) as Result).url)).size).toBe(130);
  });

  it('is cut at the last whole Result within the budget, and always holds the first', async () => {
    const job = await submit({ urls: [1, 2, 3, 4].map((n) => origin(`/page?title=t${n}`)) });
    await waitForJob(job.id);
    const coordinator = env.JOB_COORDINATOR.getByName(job.id);
    const seqs = await runInDurableObject(coordinator, (_o, state) => {
      const sql = new Sql(state.storage.sql);
      const store = new UrlStore(sql);
      const bodies = sql.all<{ body: string }>('SELECT body FROM results ORDER BY seq');
      const [a = 0, b = 0, c = 0] = bodies.map((r) => utf8(r.body));
      return [a + b + c, a + b + c - 1, a + b, 1, 0].map(
        (bytes) => store.resultsAfter(0, 1000, bytes).length,
      );
    });
    expect(seqs).toEqual([3, 2, 2, 1, 1]);
    const page = await runInDurableObject(coordinator, (_o, state) => {
      const store = new UrlStore(new Sql(state.storage.sql));
      return { rows: store.resultsAfter(2, 1, PAGE_BYTES), more: store.hasResultAfter(3) };
    });
    expect(page.rows.map((r) => r.seq)).toEqual([3]);
    expect(page.more).toBe(true);
  });
});
