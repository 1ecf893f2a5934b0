// A shard's report is bounded by its text as well as its count, so a batch of pages with long
// link lists can never pass the size an RPC message may have.
import { describe, expect, it } from 'vitest';
import type { PageOutcome } from '../../src/fetch/fetch-page';
import type { WorkOutcome } from '../../src/shard/protocol';
import { outcomeChars, REPORT_MAX_CHARS, takeReport } from '../../src/shard/report-batch';
import { okOutcome } from '../support/outcomes';

function page(idx: number, links = 0, title = 'T'): WorkOutcome {
  const outcome = okOutcome({
    finalUrl: 'https://a.example/',
    title,
    links,
    bytes: 10,
    data: { h: 'x'.repeat(10) },
    linkUrls: Array.from({ length: links }, (_, i) => `https://a.example/${'p'.repeat(96)}${i}`),
    durationMs: 1,
    fetchedAt: '2026-12-01T00:00:00.000Z',
  });
  return { type: 'page', idx, outcome };
}

describe('takeReport', () => {
  it('takes at most 500 outcomes, in order', () => {
    const outbox = Array.from({ length: 600 }, (_, i) => page(i));
    const first = takeReport(outbox);
    expect(first.map((o) => (o.type === 'page' ? o.idx : -1))).toEqual(
      Array.from({ length: 500 }, (_, i) => i),
    );
    expect(takeReport(outbox)).toHaveLength(100);
    expect(outbox).toEqual([]);
  });

  it('stops before the text passes the limit, but always takes the first', () => {
    // Each of these pages carries 1,000 link URLs of ~120 characters: ~124,000 characters.
    const big = () => Array.from({ length: 100 }, (_, i) => page(i, 1_000));
    const size = outcomeChars(page(0, 1_000));
    expect(size).toBeGreaterThan(120_000);
    const outbox = big();
    const batch = takeReport(outbox);
    expect(batch).toHaveLength(Math.floor(REPORT_MAX_CHARS / size));
    expect(batch.length * size).toBeLessThanOrEqual(REPORT_MAX_CHARS);
    expect(takeReport(big(), 500, 1)).toHaveLength(1);
  });

  it('counts a failure by its message, a robots outcome by its rules', () => {
    const failure: WorkOutcome = {
      type: 'page',
      idx: 1,
      outcome: {
        ok: false,
        kind: 'network',
        message: 'm'.repeat(1_000),
        status: null,
        finalUrl: null,
        contentType: null,
        bytes: 0,
        durationMs: 1,
        fetchedAt: '2026-12-01T00:00:00.000Z',
        retryAfter: null,
      } as PageOutcome,
    };
    expect(outcomeChars(failure)).toBe(512 + 1_000);
    const robots: WorkOutcome = {
      type: 'robots',
      hostId: 1,
      rules: { allow: ['/a'], disallow: ['/bcd'] },
    };
    expect(outcomeChars(robots)).toBe(512 + 2 + 4);
  });
});
