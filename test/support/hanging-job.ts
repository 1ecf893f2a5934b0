// Jobs of many hanging URLs, for the tests of ending a job (test/worker and
// test/durable-objects).
import { expect } from 'vitest';
import type { JobCounts, JobView } from '../../src/jobs/types';
import { origin, originStats, submit, tag } from './api';
import { sleep } from './time';

// vitest.config.ts sets SETTLE_CHUNK_ROWS to 50, so ending a 400-URL job takes 8 chunks.
export const URLS = 400;

/** A job of `n` URLs that never answer, with `concurrency` of them in flight at the origin. */
export async function hangingJob(
  n: number,
  concurrency: number,
  extra: Record<string, unknown> = {},
) {
  const t = tag('end');
  const urls = Array.from({ length: n }, (_, i) => origin(`/hang?tag=${t}&i=${i}`));
  const job = await submit({ urls, concurrency, timeoutMs: 60_000, ...extra });
  for (let i = 0; i < 200 && (await originStats(t)).inFlight < concurrency; i++) await sleep(20);
  expect((await originStats(t)).inFlight).toBe(concurrency);
  return { id: job.id, urls, t };
}

function settledOf(c: JobCounts): number {
  return c.succeeded + c.failed + c.cancelled;
}

/** Every URL is in exactly one of the view's counts. */
export function expectConsistent(view: JobView, total: number): void {
  const c = view.counts;
  expect(c.total).toBe(total);
  expect(c.queued + c.inFlight + c.retrying + settledOf(c)).toBe(total);
}
