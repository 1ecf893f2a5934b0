// Exact values of the coordinator's counters and host limits at their edges.
import { describe, expect, it } from 'vitest';
import { UrlCounts } from '../../src/coordinator/counts';
import { heldUntil, recoveredLimit } from '../../src/coordinator/host-limits';
import { JobRecord } from '../../src/coordinator/job-record';
import type { Sql } from '../../src/lib/sql';

describe('UrlCounts totals', () => {
  it('adds up every settled and every pending bucket', () => {
    const counts = new UrlCounts();
    counts.move(null, 'queued', 20);
    counts.move('queued', 'out', 7);
    counts.move('out', 'retrying', 2);
    counts.move('out', 'succeeded', 3);
    counts.move('queued', 'failed', 4);
    counts.move('queued', 'cancelled', 5);
    expect({ ...counts }).toEqual({
      queued: 4,
      out: 2,
      retrying: 2,
      succeeded: 3,
      failed: 4,
      cancelled: 5,
    });
    expect(counts.pending).toBe(8);
    expect(counts.settled).toBe(12);
  });
});

describe('host limits', () => {
  it('leaves a limit above the maximum where it is on success', () => {
    expect(recoveredLimit(10, 4)).toBe(10);
    expect(recoveredLimit(4, 4)).toBe(4);
    expect(recoveredLimit(2, 4)).toBe(2.5);
  });

  it('does not hold a host back without a positive Retry-After', () => {
    expect(heldUntil(100, null, 5_000)).toBe(100);
    expect(heldUntil(100, 0, 5_000)).toBe(100);
    expect(heldUntil(100, -1, 5_000)).toBe(100);
    expect(heldUntil(100, 1, 5_000)).toBe(5_001);
    expect(heldUntil(9_000, 1, 5_000)).toBe(9_000);
  });
});

describe('a job stored before perHostDelayMs', () => {
  it('loads with perHostDelayMs 0; a stored value is kept', () => {
    const load = (spec: Record<string, unknown>) => {
      const sql = {
        one: () => ({ spec: JSON.stringify(spec) }),
        all: () => [],
      } as unknown as Sql;
      return JobRecord.load(sql)?.spec;
    };
    expect(load({ concurrency: 4 })).toEqual({ concurrency: 4, perHostDelayMs: 0 });
    expect(load({ concurrency: 4, perHostDelayMs: 250 })).toMatchObject({ perHostDelayMs: 250 });
  });
});
