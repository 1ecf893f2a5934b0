import { describe, expect, it } from 'vitest';
import { latestRunAtOrBefore, nextRunAfter, parseCron } from '../../src/lib/cron';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('parseCron (inside workerd, through croner)', () => {
  it('accepts standard 5-field expressions and collapses whitespace', () => {
    for (const expr of [
      '* * * * *',
      '*/5 * * * *',
      '0 9 * * 1-5',
      '0 9 * * MON-FRI',
      '15,45 0-23/2 1 jan-jun sun',
      '0 0 29 2 *',
    ]) {
      expect(parseCron(expr), expr).toEqual({ ok: true, cron: expr });
    }
    expect(parseCron('  0   12 *  * * ')).toEqual({ ok: true, cron: '0 12 * * *' });
  });

  it('names the problem for a wrong field count', () => {
    expect(parseCron('* * * *')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/5 fields.*got 4/),
    });
    expect(parseCron('0 0 0 * * *')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/got 6/),
    });
    expect(parseCron('')).toMatchObject({ ok: false, message: expect.stringMatching(/got 0/) });
  });

  it('refuses out-of-range values and non-standard syntax', () => {
    expect(parseCron('60 * * * *')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/minute/),
    });
    expect(parseCron('* 24 * * *')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/hour/),
    });
    expect(parseCron('* * 32 * *').ok).toBe(false);
    expect(parseCron('* * * 13 *').ok).toBe(false);
    for (const expr of [
      '? * * * *',
      '* * L * *',
      '* * * * 5#2',
      '* * 15W * *',
      '@hourly',
      'a b c d e',
    ]) {
      expect(parseCron(expr).ok, expr).toBe(false);
    }
    expect(parseCron(`${'1,'.repeat(150)}1 * * * *`).ok).toBe(false);
  });

  it('refuses an expression that never fires', () => {
    expect(parseCron('0 0 31 2 *')).toEqual({ ok: false, message: 'never fires' });
  });
});

describe('nextRunAfter', () => {
  it('is strictly after the reference, in UTC whole minutes', () => {
    expect(iso(nextRunAfter('*/5 * * * *', at('2026-11-25T10:05:00Z')))).toBe(
      '2026-11-25T10:10:00.000Z',
    );
    expect(iso(nextRunAfter('*/5 * * * *', at('2026-11-25T10:04:59.999Z')))).toBe(
      '2026-11-25T10:05:00.000Z',
    );
    expect(iso(nextRunAfter('* * * * *', at('2026-11-25T10:05:30.500Z')))).toBe(
      '2026-11-25T10:06:00.000Z',
    );
    expect(iso(nextRunAfter('30 2 * * *', at('2026-11-25T10:05:00Z')))).toBe(
      '2026-11-26T02:30:00.000Z',
    );
  });

  it('combines day-of-month and day-of-week with OR, like Vixie cron', () => {
    // 2026-11-30 is a Monday; 2026-12-01 is the 1st.
    let t = at('2026-11-25T00:00:00Z');
    const runs: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const next = nextRunAfter('0 0 1 * mon', t);
      runs.push(iso(next));
      t = next ?? t;
    }
    expect(runs).toEqual([
      '2026-11-30T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
      '2026-12-07T00:00:00.000Z',
    ]);
  });

  it('finds 29 February years ahead', () => {
    expect(iso(nextRunAfter('0 0 29 2 *', at('2026-11-25T00:00:00Z')))).toBe(
      '2028-02-29T00:00:00.000Z',
    );
  });
});

describe('latestRunAtOrBefore', () => {
  it('includes a run at the very minute and never one after the reference', () => {
    expect(iso(latestRunAtOrBefore('*/5 * * * *', at('2026-11-25T10:05:00Z')))).toBe(
      '2026-11-25T10:05:00.000Z',
    );
    expect(iso(latestRunAtOrBefore('*/5 * * * *', at('2026-11-25T10:09:59.999Z')))).toBe(
      '2026-11-25T10:05:00.000Z',
    );
    expect(iso(latestRunAtOrBefore('*/5 * * * *', at('2026-11-25T10:04:59.999Z')))).toBe(
      '2026-11-25T10:00:00.000Z',
    );
    expect(iso(latestRunAtOrBefore('0 9 * * 1-5', at('2026-11-29T12:00:00Z')))).toBe(
      '2026-11-27T09:00:00.000Z',
    );
  });
});
