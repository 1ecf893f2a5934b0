import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  MAX_RETRY_AFTER_MS,
  nextRetryDelayMs,
  parseRetryAfter,
} from '../../src/lib/backoff';

const policy = { baseDelayMs: 500, maxDelayMs: 30_000 };
const zero = () => 0;
const almostOne = () => 0.999_999;

describe('backoffDelayMs', () => {
  it('gives 0 when the random source gives 0', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      expect(backoffDelayMs(attempt, policy, zero)).toBe(0);
    }
  });

  it('stays just under base * 2^(attempt-1) at the top of the random range', () => {
    expect(backoffDelayMs(1, policy, almostOne)).toBe(499);
    expect(backoffDelayMs(2, policy, almostOne)).toBe(999);
    expect(backoffDelayMs(3, policy, almostOne)).toBe(1999);
    expect(backoffDelayMs(6, policy, almostOne)).toBe(15_999);
  });

  it('never exceeds maxDelayMs, even for huge attempt numbers', () => {
    expect(backoffDelayMs(7, policy, almostOne)).toBe(29_999);
    expect(backoffDelayMs(1_000, policy, almostOne)).toBe(29_999);
    expect(backoffDelayMs(Number.MAX_SAFE_INTEGER, policy, almostOne)).toBe(29_999);
    expect(backoffDelayMs(Number.POSITIVE_INFINITY, policy, almostOne)).toBe(29_999);
  });

  it('scales linearly with the random value and returns whole ms', () => {
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(1000);
    expect(Number.isInteger(backoffDelayMs(3, policy, () => 0.123_456))).toBe(true);
  });

  it('treats attempt numbers below 1 or NaN as the first attempt', () => {
    expect(backoffDelayMs(0, policy, almostOne)).toBe(499);
    expect(backoffDelayMs(Number.NaN, policy, almostOne)).toBe(499);
  });

  it('clamps a misbehaving random source into the range', () => {
    expect(backoffDelayMs(1, policy, () => 5)).toBe(500);
    expect(backoffDelayMs(1, policy, () => -1)).toBe(0);
    expect(backoffDelayMs(1, policy, () => Number.NaN)).toBe(0);
  });

  it('stays in [0, cap) with the real random source', () => {
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelayMs(4, policy);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(4000);
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2015, 9, 21, 7, 28, 0); // Wed, 21 Oct 2015 07:28:00 GMT

  it('returns null for an absent or empty header', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('   ', now)).toBeNull();
  });

  it('reads delta-seconds as milliseconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 5 ', now)).toBe(5_000);
  });

  it('caps delta-seconds at an hour, even absurdly long ones', () => {
    expect(parseRetryAfter('3600', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('86400', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('9'.repeat(400), now)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('reads an IMF-fixdate as the time left until then', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:30:00 GMT', now)).toBe(120_000);
    expect(parseRetryAfter('wed, 21 oct 2015 07:28:01 gmt', now)).toBe(1_000);
  });

  it('reads the obsolete RFC 850 and asctime date forms', () => {
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:29:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed Oct 21 07:29:30 2015', now)).toBe(90_000);
    expect(parseRetryAfter('Wed Oct  1 07:29:30 2015', now)).toBe(0);
  });

  it('turns a date in the past into 0 and a far future date into the cap', () => {
    expect(parseRetryAfter('Tue, 20 Oct 2015 07:28:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now)).toBe(MAX_RETRY_AFTER_MS);
  });

  it.each([
    '-5',
    '1.5',
    '+10',
    '10s',
    'soon',
    '2015-10-21T07:30:00Z',
    'Wed, 21 Oct 2015 07:30:00',
    'Wed, 31 Feb 2015 07:30:00 GMT',
    'Wed, 21 Foo 2015 07:30:00 GMT',
    'Wed, 21 Oct 2015 25:30:00 GMT',
  ])('returns null for the invalid value %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });
});

describe('nextRetryDelayMs', () => {
  it('is the backoff delay when the server gave no Retry-After', () => {
    expect(nextRetryDelayMs(3, policy, null, () => 0.5)).toBe(1000);
  });

  it('waits at least as long as Retry-After asks', () => {
    expect(nextRetryDelayMs(1, policy, 10_000, almostOne)).toBe(10_000);
    expect(nextRetryDelayMs(7, policy, 10_000, almostOne)).toBe(29_999);
    expect(nextRetryDelayMs(1, policy, 0, zero)).toBe(0);
  });

  it('never waits longer than the cap', () => {
    expect(nextRetryDelayMs(1, policy, 10 * MAX_RETRY_AFTER_MS, zero)).toBe(MAX_RETRY_AFTER_MS);
    const slow = { baseDelayMs: 1_000_000, maxDelayMs: 100_000_000 };
    expect(nextRetryDelayMs(20, slow, null, almostOne)).toBe(MAX_RETRY_AFTER_MS);
  });
});
