import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatBytes,
  formatEta,
  formatMs,
  keyLine,
  keyTable,
  shortLine,
  summary,
} from '../../bin/lib/format.mjs';

const view = {
  id: 'j1',
  status: /** @type {const} */ ('running'),
  mode: 'settle',
  createdAt: '2025-01-01T00:00:00.000Z',
  startedAt: '2025-01-01T00:00:00.100Z',
  finishedAt: null,
  deadlineAt: null,
  counts: {
    total: 50,
    queued: 13,
    inFlight: 5,
    retrying: 2,
    succeeded: 28,
    failed: 2,
    cancelled: 0,
  },
  stats: { p50Ms: 120, p95Ms: 1500, bytes: 2048 },
};

describe('format', () => {
  it('shortLine', () => {
    assert.equal(
      shortLine(view),
      'j1 running 30/50 settled (28 ok, 2 failed, 0 cancelled; 5 in flight, 2 retrying, 13 queued)',
    );
  });

  it('summary', () => {
    const done = {
      ...view,
      status: /** @type {const} */ ('completed'),
      finishedAt: '2025-01-01T00:00:04.200Z',
      counts: { ...view.counts, queued: 0, inFlight: 0, retrying: 0, succeeded: 48 },
    };
    assert.equal(
      summary(done),
      'job j1 completed in 4.2 s: 48 ok, 2 failed, 0 cancelled of 50 (p50 120 ms, p95 1.5 s, 2.0 KB)',
    );
  });

  it('formatMs and formatBytes', () => {
    assert.equal(formatMs(null), '-');
    assert.equal(formatMs(999), '999 ms');
    assert.equal(formatMs(61_000), '1m01s');
    assert.equal(formatMs(3_660_000), '1h01m');
    assert.equal(formatEta(4100), '5s');
    assert.equal(formatEta(65_000), '1m05s');
    assert.equal(formatEta(Number.POSITIVE_INFINITY), '-');
    assert.equal(formatBytes(10), '10 B');
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MB');
  });

  it('keyTable aligns columns to the widest cell, keeps each key on one line', () => {
    const key = {
      id: 'key_a',
      name: 'two\nlines\tand a tab',
      maxActiveJobs: 5,
      maxConcurrency: 1000,
      createdAt: '2025-01-01T00:00:00.000Z',
    };
    assert.deepEqual(keyTable([key]), [
      'ID     NAME                 MAX ACTIVE JOBS  MAX CONCURRENCY  CREATED',
      'key_a  two lines and a tab  5                1000             2025-01-01T00:00:00.000Z',
    ]);
    assert.deepEqual(keyTable([]), ['ID  NAME  MAX ACTIVE JOBS  MAX CONCURRENCY  CREATED']);
    assert.equal(keyLine(key), 'key_a "two lines and a tab": maxActiveJobs 5, maxConcurrency 1000');
  });
});
