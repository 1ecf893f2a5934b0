// Retry-After and backoff at their edges: each HTTP-date form, field bounds and the
// two-digit-year window of RFC 850 dates.
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../src/lib/backoff';

const NOW = Date.UTC(2026, 0, 1);
/** ms from NOW until the date `text` names (0 when past, capped at one hour). */
const wait = (text: string, now = NOW): number | null => parseRetryAfter(text, now);
/** A date far in the past parses to 0, an unparseable one to null. */
const PAST = 0;

describe('backoffDelayMs', () => {
  it('is 0 when the cap is not a positive number', () => {
    const half = () => 0.5;
    expect(backoffDelayMs(1, { baseDelayMs: -5, maxDelayMs: 1_000 }, half)).toBe(0);
    expect(backoffDelayMs(1, { baseDelayMs: Number.NaN, maxDelayMs: 1_000 }, half)).toBe(0);
    expect(backoffDelayMs(1, { baseDelayMs: 0, maxDelayMs: 1_000 }, half)).toBe(0);
  });
});

describe('parseRetryAfter: the three date forms', () => {
  it('reads every month name in an IMF-fixdate', () => {
    const months = [
      'Jan',
      'Feb',
      'Mar',
      'Apr',
      'May',
      'Jun',
      'Jul',
      'Aug',
      'Sep',
      'Oct',
      'Nov',
      'Dec',
    ];
    months.forEach((month, index) => {
      const at = Date.UTC(2026, index, 1, 0, 0, 30);
      expect({ month, ms: wait(`Thu, 01 ${month} 2026 00:00:30 GMT`, at - 10_000) }).toEqual({
        month,
        ms: 10_000,
      });
    });
  });

  it('insists on the whole of each form', () => {
    expect(wait('Thu, 01 Jan 2026 00:00:30 GMT')).toBe(30_000);
    expect(wait('Thu, 01 Jan 2026 00:00:30 GMTx')).toBeNull();
    expect(wait('xThu, 01 Jan 2026 00:00:30 GMT')).toBeNull();
    expect(wait('Thursday, 01-Jan-26 00:00:30 GMT')).toBe(30_000);
    expect(wait('Thursday, 01-Jan-26 00:00:30 GMTx')).toBeNull();
    expect(wait('0Thursday, 01-Jan-26 00:00:30 GMT')).toBeNull();
    expect(wait('Thu Jan  1 00:00:30 2026')).toBe(30_000);
    expect(wait('Thu Jan  1 00:00:30 20265')).toBeNull();
    expect(wait('xThu Jan  1 00:00:30 2026')).toBeNull();
  });

  it('puts a two-digit year more than 50 years ahead in the past century', () => {
    expect(wait('Sunday, 06-Nov-99 08:49:37 GMT')).toBe(PAST);
    expect(wait('Thursday, 01-Jan-76 00:00:00 GMT')).toBe(MAX_RETRY_AFTER_MS);
    expect(wait('Friday, 01-Jan-77 00:00:00 GMT')).toBe(PAST);
  });

  it('checks each field against its range', () => {
    expect(wait('Sat, 31 Jan 2026 00:00:00 GMT')).toBe(MAX_RETRY_AFTER_MS);
    expect(wait('Thu, 01 Jan 2026 23:59:59 GMT')).toBe(MAX_RETRY_AFTER_MS);
    expect(wait('Thu, 01 Jan 2026 00:59:00 GMT')).toBe(3_540_000);
    expect(wait('Thu, 01 Jan 2026 00:00:59 GMT')).toBe(59_000);
    // A leap second counts as :59.
    expect(wait('Thu, 01 Jan 2026 00:00:60 GMT')).toBe(59_000);
    expect(wait('Thu, 01 Jan 2026 00:00:61 GMT')).toBeNull();
    expect(wait('Thu, 01 Jan 2026 00:60:00 GMT')).toBeNull();
    expect(wait('Thu, 01 Jan 2026 24:00:00 GMT')).toBeNull();
    expect(wait('Thu, 32 Jan 2026 00:00:00 GMT')).toBeNull();
    expect(wait('Thu, 00 Jan 2026 00:00:00 GMT')).toBeNull();
    expect(wait('Thu, 01 Foo 2026 00:00:00 GMT')).toBeNull();
  });
});
