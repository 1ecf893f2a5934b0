import { describe, expect, it } from 'vitest';
import {
  callbackAttempt,
  callbackRetryDelayMs,
  nextCallbackState,
} from '../../src/coordinator/callback';
import { pendingOf, settlementOf, UrlCounts } from '../../src/coordinator/counts';
import {
  AT_ONCE_SLACK_MS,
  heldUntil,
  hostCanTake,
  hostCap,
  hostDelay,
  hostOpensAt,
  nextStart,
  paceLookahead,
  recoveredLimit,
  resumedStartBy,
  startedBy,
  TIMED_SLACK_MS,
  throttledLimit,
} from '../../src/coordinator/host-limits';
import {
  decide,
  failureLimit,
  fairWant,
  firstBatch,
  inLastRounds,
  runsToStart,
} from '../../src/coordinator/policy';
import type { PageOutcome } from '../../src/fetch/fetch-page';

const NOW = 1_000_000;
const retry = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 };
const settle = { retry, mode: 'settle' as const };
const almostOne = () => 0.999_999;

function failure(kind: string, status: number | null, retryAfter: string | null = null) {
  return {
    ok: false,
    kind,
    status,
    message: `${kind} ${status}`,
    finalUrl: null,
    contentType: null,
    bytes: 0,
    durationMs: 12,
    fetchedAt: new Date(NOW).toISOString(),
    retryAfter,
  } as PageOutcome;
}

const success = {
  ok: true,
  status: 200,
  finalUrl: 'http://a/',
  contentType: 'text/html',
  title: 't',
  links: 0,
  bytes: 10,
  durationMs: 5,
  fetchedAt: new Date(NOW).toISOString(),
  data: null,
} as PageOutcome;

describe('fairWant', () => {
  it('gives one round for the connections plus the share of what is queued, less what is held', () => {
    // 6 + ceil(6 * 1000 / 100) = 66, capped by the ask.
    expect(fairWant({ slots: 6, held: 0 }, 36, 1000, 100, false)).toBe(36);
    // 6 + ceil(6 * 100 / 100) = 12.
    expect(fairWant({ slots: 6, held: 0 }, 36, 100, 100, false)).toBe(12);
    expect(fairWant({ slots: 6, held: 10 }, 36, 100, 100, false)).toBe(2);
    expect(fairWant({ slots: 5, held: 0 }, 36, 7, 100, false)).toBe(6);
  });

  it('gives no more than the free connections when only free connections may take work', () => {
    expect(fairWant({ slots: 6, held: 0 }, 36, 1000, 100, true)).toBe(6);
    expect(fairWant({ slots: 6, held: 4 }, 36, 1000, 100, true)).toBe(2);
  });

  it('never goes negative and honours an ask of nothing', () => {
    expect(fairWant({ slots: 6, held: 20 }, 36, 10, 100, false)).toBe(0);
    expect(fairWant({ slots: 6, held: 0 }, 0, 1000, 100, false)).toBe(0);
    expect(fairWant({ slots: 6, held: 0 }, -3, 1000, 100, false)).toBe(0);
  });
});

describe('inLastRounds', () => {
  it('is true from two rounds of the job’s connections left, out or queued', () => {
    expect(inLastRounds(100, 100, 100)).toBe(true);
    expect(inLastRounds(0, 200, 100)).toBe(true);
    expect(inLastRounds(101, 100, 100)).toBe(false);
    expect(inLastRounds(20, 0, 12)).toBe(true);
    expect(inLastRounds(25, 0, 12)).toBe(false);
  });
});

describe('firstBatch', () => {
  it('splits what is queued evenly over the connections it needs, within the prefetch', () => {
    expect(firstBatch(6, 2000, 100)).toBe(36);
    expect(firstBatch(6, 20, 12)).toBe(10);
    expect(firstBatch(6, 3, 12)).toBe(6);
    expect(firstBatch(5, 1, 100)).toBe(5);
  });
});

describe('runsToStart', () => {
  const idle = (slots: number) => ({ slots, running: false });
  const busy = (slots: number) => ({ slots, running: true });

  it('starts runs in order until every queued URL has a connection', () => {
    expect(runsToStart([idle(6), idle(6), idle(6)], 10)).toEqual([0, 1]);
    expect(runsToStart([idle(6), idle(6), idle(6)], 100)).toEqual([0, 1, 2]);
    expect(runsToStart([idle(6), idle(6), idle(6)], 1)).toEqual([0]);
  });

  it('counts the connections of runs already going', () => {
    expect(runsToStart([busy(6), idle(6), idle(6)], 5)).toEqual([]);
    expect(runsToStart([busy(6), idle(6), idle(6)], 7)).toEqual([1]);
    expect(runsToStart([idle(6), busy(6), idle(5)], 12)).toEqual([0]);
    expect(runsToStart([idle(6)], 0)).toEqual([]);
  });
});

describe('decide (the retry decision)', () => {
  it('settles a success, and hands a URL its run dropped out again', () => {
    expect(decide(success, 1, settle, 0, NOW)).toEqual({ action: 'settle' });
    expect(decide(failure('cancelled', null), 1, settle, 0, NOW)).toEqual({ action: 'requeue' });
  });

  it('retries these statuses and kinds while attempts are left', () => {
    for (const status of [408, 425, 429, 500, 502, 503, 504]) {
      expect(decide(failure('http_status', status), 1, settle, 0, NOW).action).toBe('retry');
    }
    for (const kind of ['timeout', 'network']) {
      expect(decide(failure(kind, null), 2, settle, 0, NOW).action).toBe('retry');
    }
  });

  it('settles every other status and kind at once', () => {
    for (const status of [400, 403, 404, 410, 501, 505]) {
      expect(decide(failure('http_status', status), 1, settle, 0, NOW)).toEqual({
        action: 'settle',
      });
    }
    for (const kind of ['too_large', 'redirect_loop', 'blocked_target', 'invalid_content']) {
      expect(decide(failure(kind, null), 1, settle, 0, NOW).action).toBe('settle');
    }
  });

  it('settles once the attempts are spent', () => {
    expect(decide(failure('timeout', null), 3, settle, 0, NOW).action).toBe('settle');
    expect(decide(failure('timeout', null), 2, settle, 0, NOW).action).toBe('retry');
  });

  it('waits the backoff of the attempt that failed', () => {
    // Full jitter below base * 2^(attempts - 1): 499, 999 ms at the top of the range.
    const one = decide(failure('timeout', null), 1, settle, 0, NOW, almostOne);
    expect(one).toEqual({ action: 'retry', dueAt: NOW + 499 });
    const two = decide(failure('timeout', null), 2, settle, 0, NOW, almostOne);
    expect(two).toEqual({ action: 'retry', dueAt: NOW + 999 });
  });

  it('never retries before the Retry-After or before the host opens again', () => {
    const after = decide(failure('http_status', 503, '7'), 1, settle, 0, NOW, almostOne);
    expect(after).toEqual({ action: 'retry', dueAt: NOW + 7_000 });
    const held = decide(failure('timeout', null), 1, settle, NOW + 60_000, NOW, almostOne);
    expect(held).toEqual({ action: 'retry', dueAt: NOW + 60_000 });
  });

  it('a failFast job still retries what is retryable: only a settled failure counts', () => {
    const failFast = { retry, mode: 'failFast' as const };
    expect(decide(failure('http_status', 404), 1, failFast, 0, NOW)).toEqual({ action: 'settle' });
    expect(decide(failure('timeout', null), 1, failFast, 0, NOW).action).toBe('retry');
  });
});

describe('counts', () => {
  it('counts a Result by one rule: ok, the job’s own errors, every other error', () => {
    expect(settlementOf(true, null)).toBe('succeeded');
    expect(settlementOf(false, 'cancelled')).toBe('cancelled');
    expect(settlementOf(false, 'deadline')).toBe('cancelled');
    expect(settlementOf(false, 'timeout')).toBe('failed');
    expect(settlementOf(false, 'robots')).toBe('failed');
  });

  it('names the bucket of each unsettled URL state', () => {
    expect([0, 1, 2, 3].map(pendingOf)).toEqual(['queued', 'out', 'retrying', null]);
  });

  it('moves URLs between buckets; null is a side not counted', () => {
    const c = new UrlCounts();
    c.move(null, 'queued', 10);
    c.move('queued', 'out', 6);
    c.move('out', 'retrying');
    c.move('out', null);
    c.move(null, 'succeeded');
    c.move('retrying', 'queued');
    expect({ ...c, settled: c.settled, pending: c.pending }).toEqual({
      queued: 5,
      out: 4,
      retrying: 0,
      succeeded: 1,
      failed: 0,
      cancelled: 0,
      settled: 1,
      pending: 9,
    });
  });
});

describe('host limits', () => {
  it('halves a limit on a throttle signal, never below one', () => {
    expect(throttledLimit(6, 6)).toBe(3);
    expect(throttledLimit(3, 6)).toBe(1.5);
    expect(throttledLimit(1.5, 6)).toBe(1);
    expect(throttledLimit(12, 6)).toBe(3);
  });

  it('raises a lowered limit by 1/limit per success, up to the maximum', () => {
    expect(recoveredLimit(2, 6)).toBe(2.5);
    expect(recoveredLimit(4, 6)).toBe(4.25);
    expect(recoveredLimit(5.9, 6)).toBe(6);
    expect(recoveredLimit(6, 6)).toBe(6);
  });

  it('holds a host back for a Retry-After, never shortening a hold', () => {
    expect(heldUntil(0, 2_000, NOW)).toBe(NOW + 2_000);
    expect(heldUntil(NOW + 9_000, 2_000, NOW)).toBe(NOW + 9_000);
    expect(heldUntil(5, null, NOW)).toBe(5);
    expect(heldUntil(5, 0, NOW)).toBe(5);
  });

  it('applies a limit only where it can bind', () => {
    expect(hostCap(6, 6)).toBe(Number.POSITIVE_INFINITY);
    expect(hostCap(4, 16)).toBe(4);
    expect(hostCap(2.7, 16)).toBe(2);
    expect(hostCanTake({ limit: 4, inUse: 3, blockedUntil: 0 }, 16, NOW)).toBe(true);
    expect(hostCanTake({ limit: 4, inUse: 4, blockedUntil: 0 }, 16, NOW)).toBe(false);
    expect(hostCanTake({ limit: 4, inUse: 0, blockedUntil: NOW + 1 }, 16, NOW)).toBe(false);
  });

  it('paces a host: starts one delay apart, handed out at most one lookahead before', () => {
    expect(hostDelay(100, 400)).toBe(400);
    expect(hostDelay(500, 400)).toBe(500);
    expect(hostDelay(0, 120_000)).toBe(60_000);
    expect(hostDelay(0, undefined)).toBe(0);
    expect(nextStart({ delayMs: 300, lastStartBy: NOW }, NOW + 100)).toBe(NOW + 300);
    expect(nextStart({ delayMs: 300, lastStartBy: NOW }, NOW + 900)).toBe(NOW + 900);
    // A URL that starts at once may start a while after its hand-out; one on a timer less late.
    expect(startedBy(NOW, NOW)).toBe(NOW + AT_ONCE_SLACK_MS);
    expect(startedBy(NOW + 300, NOW)).toBe(NOW + 300 + TIMED_SLACK_MS);
    expect(resumedStartBy(NOW, 0, 5_000)).toBe(NOW + AT_ONCE_SLACK_MS);
    expect(resumedStartBy(NOW, 60_000, 5_000)).toBe(NOW + 5_000 + TIMED_SLACK_MS);
    expect(paceLookahead(300, 5_000)).toBe(300);
    expect(paceLookahead(60_000, 5_000)).toBe(5_000);
    const paced = { limit: 4, inUse: 0, blockedUntil: 0, delayMs: 10_000, lastStartBy: NOW };
    expect(hostOpensAt(paced, 5_000)).toBe(NOW + 5_000);
    expect(hostOpensAt({ ...paced, delayMs: 300 }, 5_000)).toBe(NOW);
    expect(hostOpensAt({ ...paced, blockedUntil: NOW + 7_000 }, 5_000)).toBe(NOW + 7_000);
    expect(hostCanTake(paced, 16, NOW + 4_999, 5_000)).toBe(false);
    expect(hostCanTake(paced, 16, NOW + 5_000, 5_000)).toBe(true);
  });
});

describe('callback delivery state', () => {
  it('counts attempts up to the limit, then gives up', () => {
    expect(callbackAttempt('pending:0')).toBe(1);
    expect(callbackAttempt('pending:3')).toBe(4);
    expect(callbackAttempt('delivered')).toBe(null);
    expect(callbackAttempt('failed')).toBe(null);
    expect(callbackAttempt(null)).toBe(null);
    expect(nextCallbackState(1, true)).toBe('delivered');
    expect(nextCallbackState(1, false)).toBe('pending:1');
    expect(nextCallbackState(4, false)).toBe('pending:4');
    expect(nextCallbackState(5, false)).toBe('failed');
  });

  it('waits longer after each failed attempt, within a minute', () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const ms = callbackRetryDelayMs(attempt);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(Math.min(60_000, 2_000 * 2 ** (attempt - 1)));
    }
  });
});

describe('failureLimit', () => {
  it('is 0 for failFast, the count given, a share of the URLs for "N%", else none', () => {
    expect(failureLimit({ mode: 'failFast', maxFailures: null }, 50)).toBe(0);
    expect(failureLimit({ mode: 'settle', maxFailures: 5 }, 50)).toBe(5);
    expect(failureLimit({ mode: 'settle', maxFailures: 0 }, 50)).toBe(0);
    expect(failureLimit({ mode: 'settle', maxFailures: '10%' }, 25)).toBe(2.5);
    expect(failureLimit({ mode: 'settle', maxFailures: '12.5%' }, 8)).toBe(1);
    expect(failureLimit({ mode: 'settle', maxFailures: '100%' }, 8)).toBe(8);
    expect(failureLimit({ mode: 'settle', maxFailures: null }, 8)).toBe(null);
    expect(failureLimit({ mode: 'settle' }, 8)).toBe(null);
  });
});
