import { describe, expect, it } from 'vitest';
import { ERROR_KINDS } from '../../src/jobs/types';
import { isRetryable, isThrottleSignal, RETRYABLE_STATUSES } from '../../src/lib/retry-policy';

// The table of error kinds in docs/api.md, spelled out here: the expectations must not be read from
// the code under test, or dropping a status from it would drop its test too.
const RETRYABLE = [408, 425, 429, 500, 502, 503, 504];
const FINAL = [302, 400, 401, 403, 404, 409, 410, 418, 422, 426, 451, 499, 501, 505, 507, 511];

describe('isRetryable', () => {
  it('retries timeouts and network failures whatever the status', () => {
    expect(isRetryable({ kind: 'timeout', status: null })).toBe(true);
    expect(isRetryable({ kind: 'network', status: null })).toBe(true);
    expect(isRetryable({ kind: 'network', status: 404 })).toBe(true);
  });

  it('retries exactly the documented statuses: 408, 425, 429, 500, 502, 503, 504', () => {
    const retried = [];
    for (let status = 100; status <= 599; status++) {
      if (isRetryable({ kind: 'http_status', status })) retried.push(status);
    }
    expect(retried).toEqual(RETRYABLE);
    expect([...RETRYABLE_STATUSES].sort((a, b) => a - b)).toEqual(RETRYABLE);
  });

  it.each(RETRYABLE)('retries http_status %i', (status) => {
    expect(isRetryable({ kind: 'http_status', status })).toBe(true);
  });

  it.each(FINAL)('does not retry http_status %i', (status) => {
    expect(isRetryable({ kind: 'http_status', status })).toBe(false);
  });

  it('does not retry an http_status without a status', () => {
    expect(isRetryable({ kind: 'http_status', status: null })).toBe(false);
  });

  it('treats every other error kind as final, even with a retryable status', () => {
    const final = ERROR_KINDS.filter((k) => !['timeout', 'network', 'http_status'].includes(k));
    expect(final).toEqual([
      'too_large',
      'redirect_loop',
      'robots',
      'blocked_target',
      'cancelled',
      'deadline',
      'invalid_content',
    ]);
    for (const kind of final) {
      expect(isRetryable({ kind, status: null })).toBe(false);
      expect(isRetryable({ kind, status: 503 })).toBe(false);
    }
    expect(isRetryable({ kind: 'something_new', status: 503 })).toBe(false);
  });
});

describe('isThrottleSignal', () => {
  it('is true only for 429 and 503', () => {
    expect(isThrottleSignal(429)).toBe(true);
    expect(isThrottleSignal(503)).toBe(true);
    for (const status of [null, 200, 408, 500, 502, 504]) {
      expect(isThrottleSignal(status)).toBe(false);
    }
  });
});
