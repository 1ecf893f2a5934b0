// Small modules of src/lib at their edges: cron limits and messages, histogram extremes,
// job id shapes and URL credentials.
import { describe, expect, it } from 'vitest';
import { nextRunAfter, parseCron } from '../../src/lib/cron';
import { LatencyHistogram } from '../../src/lib/histogram';
import { isJobId, randomToken } from '../../src/lib/ids';
import { parseTarget } from '../../src/lib/normalize-url';

describe('parseCron: limits and messages', () => {
  it('takes up to 200 characters', () => {
    const padded = `${' '.repeat(191)}0 0 * * *`;
    expect(padded.length).toBe(200);
    expect(parseCron(padded)).toEqual({ ok: true, cron: '0 0 * * *' });
    expect(parseCron(` ${padded}`)).toEqual({ ok: false, message: 'at most 200 characters' });
  });

  it('names the field and item that is not standard syntax', () => {
    expect(parseCron('0 L * * *')).toEqual({
      ok: false,
      message: "hour: 'L' is not standard cron syntax",
    });
  });

  it("passes croner's reason on without its prefix", () => {
    expect(parseCron('5-1 * * * *')).toEqual({
      ok: false,
      message: "From value is larger than to value: '5-1'",
    });
    expect(parseCron('61 * * * *')).toEqual({
      ok: false,
      message: 'Invalid value for minute: 61',
    });
  });

  it('gives no next run for an expression that never fires', () => {
    expect(nextRunAfter('0 0 31 2 *', 0)).toBeNull();
  });
});

describe('LatencyHistogram: extremes', () => {
  it('gives the exact minimum for the lowest rank', () => {
    const h = new LatencyHistogram();
    h.record(1_000);
    h.record(2_000);
    h.record(3_000);
    expect(h.quantile(0)).toBe(1_000);
    expect(h.quantile(1)).toBe(3_000);
  });

  it('gives the maximum for a quantile in the overflow bucket', () => {
    const h = new LatencyHistogram();
    const big = 2 ** 24;
    h.record(big + 5);
    h.record(big + 100);
    h.record(2 ** 25);
    expect(h.quantile(0.5)).toBe(2 ** 25);
  });
});

describe('ids', () => {
  it('anchors the job id shape at both ends', () => {
    const id = `j${'0'.repeat(21)}`;
    expect(isJobId(id)).toBe(true);
    expect(isJobId(`x${id}`)).toBe(false);
    expect(isJobId(`${id}!`)).toBe(false);
  });

  it('makes 16-character hex tokens', () => {
    const a = randomToken();
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(randomToken()).not.toBe(a);
  });
});

describe('parseTarget: credentials', () => {
  it('refuses a password without a user name', () => {
    expect(parseTarget('http://:secret@example.com/')).toEqual({
      ok: false,
      message: 'credentials in URLs are not allowed',
    });
  });
});
