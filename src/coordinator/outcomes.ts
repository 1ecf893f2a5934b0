import type { PageOutcome } from '../fetch/fetch-page';
import type { JobSpec, Result } from '../jobs/types';
import { parseRetryAfter } from '../lib/backoff';
import { isThrottleSignal } from '../lib/retry-policy';
import type { WorkOutcome } from '../shard/protocol';
import { settlementOf, type UrlCounts } from './counts';
import type { HandoutBook } from './handout-book';
import type { HostTable } from './hosts';
import type { JobStats } from './job-view';
import { decide } from './policy';
import { resultFromOutcome } from './result-body';
import type { Settled, UrlStore } from './url-store';

/** What applying a run's outcomes needs. */
interface OutcomeDeps {
  spec: JobSpec;
  store: UrlStore;
  hosts: HostTable;
  counts: UrlCounts;
  book: HandoutBook;
  settle: (list: readonly Settled[]) => void;
  /** Asks for the alarm by `at` (a retry falls due). */
  wantAlarm: (at: number) => void;
  /** The backoff's jitter source (tests pin it); Math.random by default. */
  random?: () => number;
  /** Failed Results tolerated (failureLimit), or null: no limit. */
  failureLimit: number | null;
}

/**
 * Applies a shard run's outcomes (inside the caller's transaction): robots rules are stored,
 * each page's host learns from it, and the page is requeued, retried or settled. Returns the
 * cause when a failure takes the job past its failure limit (failFast, maxFailures): the
 * outcomes after it are not applied, the ending settles them.
 */
export function applyOutcomes(
  d: OutcomeDeps,
  shardIdx: number,
  outcomes: readonly WorkOutcome[],
  now: number,
): string | null {
  for (const o of outcomes) {
    if (o.type === 'robots') d.hosts.setRobots(d.hosts.get(o.hostId), o.rules);
  }
  const settled: Settled[] = [];
  let failure: string | null = null;
  let failed = d.counts.failed;
  for (const o of outcomes) {
    if (o.type === 'robots') continue;
    const out = o.outcome;
    const h = d.book.takeReport(shardIdx, o.idx, madeRequest(out));
    if (!h) continue;
    const host = d.hosts.get(h.hostId);
    if (out.ok) d.hosts.recover(host);
    else if (isThrottleSignal(out.status)) {
      d.hosts.throttle(host, parseRetryAfter(out.retryAfter, now), now);
    }
    const decision = decide(out, h.attempts, d.spec, host.blockedUntil, now, d.random);
    if (decision.action === 'requeue') {
      d.store.requeue(o.idx, h.attempts);
      d.counts.move(null, 'queued');
    } else if (decision.action === 'retry') {
      if (!out.ok) d.store.logAttempt(o.idx, h.attempts, now, out);
      d.store.retryAt(o.idx, decision.dueAt, h.attempts);
      d.counts.move(null, 'retrying');
      d.wantAlarm(decision.dueAt);
    } else {
      settled.push({ idx: o.idx, result: resultFromOutcome(h.url, h.attempts, out) });
      if (!out.ok) failed++;
      if (!out.ok && d.failureLimit !== null && failed > d.failureLimit) {
        failure = limitMessage(d.spec, failed, `${h.url} (${out.kind}: ${out.message})`);
        break;
      }
    }
  }
  d.settle(settled);
  return failure;
}

/**
 * Writes Results and counts the ones actually written: a URL settled before (a replayed
 * report) is neither written nor counted again.
 */
export function writeSettled(
  store: UrlStore,
  counts: UrlCounts,
  stats: JobStats,
  list: readonly Settled[],
  onWritten?: (result: Result) => void,
): void {
  if (list.length === 0) return;
  const fresh = store.writeResults(list);
  for (const { idx, result } of list) {
    if (!fresh.has(idx)) continue;
    counts.move(null, settlementOf(result.ok, result.error?.kind));
    stats.add(result);
    onWritten?.(result);
  }
}

/**
 * Whether an outcome comes from a request that was made: a target refused by the SSRF guard
 * before its first request has no status and is no attempt (a redirect into blocked space is:
 * its first hop was fetched).
 */
function madeRequest(out: PageOutcome): boolean {
  return out.ok || out.kind !== 'blocked_target' || out.status !== null;
}

/** What the URLs a failure limit cancels are told: the limit, and the failure that passed it. */
function limitMessage(spec: JobSpec, failed: number, last: string): string {
  if (spec.mode === 'failFast') return `cancelled: failFast tripped by ${last}`;
  return `cancelled: maxFailures ${spec.maxFailures} exceeded (${failed} failed; the last: ${last})`;
}
