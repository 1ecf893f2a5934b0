import { describe, expect, it } from 'vitest';
import { UrlCounts } from '../../src/coordinator/counts';
import type { JobRow } from '../../src/coordinator/job-record';
import { JobStats, jobView } from '../../src/coordinator/job-view';

const row = (over: Partial<JobRow>): JobRow => ({
  job_id: 'j1',
  spec: '{}',
  body_hash: 'h',
  status: 'running',
  created_at: Date.UTC(2026, 11, 1),
  started_at: null,
  finished_at: null,
  deadline_at: null,
  total: 3,
  duplicates: 0,
  callback_state: null,
  ending: null,
  owner: 'admin',
  index_state: null,
  compare: null,
  ...over,
});

describe('jobView', () => {
  it('shows stored times as ISO 8601, and the queued count net of what is in flight', () => {
    const counts = new UrlCounts();
    counts.move(null, 'queued', 1);
    counts.move(null, 'out', 2);
    const view = jobView(
      row({ deadline_at: Date.UTC(2026, 11, 2) }),
      { mode: 'settle', maxFailures: '10%', redriveOf: 'j0source' },
      counts,
      1,
      new JobStats(),
      { redrives: ['j0redrive1'] },
    );
    expect(view).toMatchObject({
      maxFailures: '10%',
      redriveOf: 'j0source',
      redrives: ['j0redrive1'],
      createdAt: '2026-12-01T00:00:00.000Z',
      deadlineAt: '2026-12-02T00:00:00.000Z',
      startedAt: null,
      counts: { total: 3, queued: 2, inFlight: 1 },
      stats: { p50Ms: null, p95Ms: null, bytes: 0 },
    });
  });

  it('never throws on a stored time no Date can hold: it shows null', () => {
    for (const bad of [9e15, 1e308, Number.POSITIVE_INFINITY, Number.NaN]) {
      const spec = { mode: 'settle' as const };
      const view = jobView(row({ deadline_at: bad }), spec, new UrlCounts(), 0, new JobStats());
      expect(view.deadlineAt).toBe(null);
    }
  });

  it('shows failFast as maxFailures 0, and no limit, source or redrives by default', () => {
    const counts = new UrlCounts();
    const failFast = jobView(row({}), { mode: 'failFast' }, counts, 0, new JobStats());
    expect(failFast).toMatchObject({ mode: 'failFast', maxFailures: 0 });
    const plain = jobView(row({}), { mode: 'settle' }, counts, 0, new JobStats());
    expect(plain).toMatchObject({ maxFailures: null, redriveOf: null, redrives: [] });
  });
});
