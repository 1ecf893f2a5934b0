import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/lib/histogram';

// A seeded generator, so a failure reproduces.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

// Nearest-rank quantile, the definition the histogram approximates.
function exactQuantile(sorted: number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

function expectWithin(actual: number | null, expected: number, relative: number) {
  expect(actual).not.toBeNull();
  const error = Math.abs((actual ?? 0) - expected);
  // One ms of slack covers rounding on tiny values.
  expect(error).toBeLessThanOrEqual(Math.max(1, expected * relative));
}

describe('LatencyHistogram', () => {
  it('returns null quantiles and a zero count when empty', () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect(h.quantile(0.5)).toBeNull();
    expect(h.quantile(0.95)).toBeNull();
  });

  it('is exact for a single sample and for small values', () => {
    const h = new LatencyHistogram();
    h.record(1234);
    expect(h.count).toBe(1);
    expect(h.quantile(0)).toBe(1234);
    expect(h.quantile(0.5)).toBe(1234);
    expect(h.quantile(1)).toBe(1234);

    const small = new LatencyHistogram();
    for (let v = 0; v < 64; v++) small.record(v);
    expect(small.quantile(0.5)).toBe(31);
    expect(small.quantile(1)).toBe(63);
  });

  type Sampler = (random: () => number) => number;
  const distributions: { name: string; sample: Sampler }[] = [
    { name: 'uniform 0..10s', sample: (r) => r() * 10_000 },
    {
      name: 'log-normal around 250ms',
      sample: (r) =>
        250 * Math.exp(Math.sqrt(-2 * Math.log(r() || 1e-9)) * Math.cos(2 * Math.PI * r())),
    },
    { name: 'exponential, mean 80ms', sample: (r) => -80 * Math.log(1 - r()) },
    { name: 'wide, 1ms..10^7ms', sample: (r) => 10 ** (r() * 7) },
  ];

  it.each(distributions)('is within 2% of the exact quantiles for $name', ({ sample }) => {
    const random = mulberry32(42);
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = Math.round(sample(random));
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    expect(h.count).toBe(values.length);
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999]) {
      expectWithin(h.quantile(q), exactQuantile(values, q), 0.02);
    }
    expect(h.quantile(0)).toBe(values[0]);
    expect(h.quantile(1)).toBe(values[values.length - 1]);
  });

  it('returns whole milliseconds, clamped to the observed range', () => {
    const h = new LatencyHistogram();
    for (const v of [1000.4, 1001.6, 1003]) h.record(v);
    for (const q of [0, 0.5, 1]) {
      const value = h.quantile(q) ?? Number.NaN;
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(1000);
      expect(value).toBeLessThanOrEqual(1003);
    }
  });

  it('counts negatives as 0, ignores non-finite samples and clamps q', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(Number.NaN);
    h.record(Number.POSITIVE_INFINITY);
    h.record(10);
    expect(h.count).toBe(2);
    expect(h.quantile(-1)).toBe(0);
    expect(h.quantile(2)).toBe(10);
  });

  it('keeps extreme values in its last bucket and still reports the true max', () => {
    const h = new LatencyHistogram();
    h.record(5);
    h.record(1e12);
    expect(h.quantile(1)).toBe(1e12);
    expect(h.quantile(0.5)).toBe(5);
  });

  it('stays within 2% after a million samples', () => {
    const h = new LatencyHistogram();
    const random = mulberry32(7);
    for (let i = 0; i < 1_000_000; i++) h.record(random() * 60_000);
    expect(h.count).toBe(1_000_000);
    expectWithin(h.quantile(0.5), 30_000, 0.02);
    expectWithin(h.quantile(0.95), 57_000, 0.02);
  });

  it('reports a middle sample within 1/128 of its value, across the tracked range', () => {
    // Between a 0 and a sample past the tracked range, the median is v's bucket midpoint.
    for (let v = 1; v < 2 ** 24 - 2 ** 18; v = Math.ceil(v * 1.003) + 1) {
      const h = new LatencyHistogram();
      for (const sample of [0, v, v, 2 ** 25]) h.record(sample);
      const median = h.quantile(0.5) ?? Number.NaN;
      expect(Math.abs(median - v), `v = ${v}`).toBeLessThanOrEqual(v / 128 + 0.5);
    }
  });
});
