// Log-linear buckets: values below 2^SUB_BITS get one bucket each; above that, every power of
// two is split into 2^SUB_BITS equal buckets. A bucket then spans at most 1/64 of its lower
// bound, so its midpoint is within 1/128 (< 0.8%) of any value in it.
const SUB_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BITS;
// 2^24 ms is about 4.7 hours; longer latencies share the last bucket (min/max stay exact).
const MAX_EXPONENT = 24;
const BUCKETS = SUB_BUCKETS + (MAX_EXPONENT - SUB_BITS) * SUB_BUCKETS;
const MAX_TRACKED = 2 ** MAX_EXPONENT - 1;

/** A fixed-memory latency histogram (about 10 KB) giving quantiles within 1% relative error. */
export class LatencyHistogram {
  #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = Number.NEGATIVE_INFINITY;

  /** Adds one sample in milliseconds; negatives count as 0, non-finite samples are ignored. */
  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const value = Math.max(0, Math.round(ms));
    const i = bucketIndex(value);
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#count++;
    this.#min = Math.min(this.#min, value);
    this.#max = Math.max(this.#max, value);
  }

  /** The nearest-rank `q` quantile (0..1) in whole ms, or null when nothing was recorded. */
  quantile(q: number): number | null {
    if (this.#count === 0) return null;
    const clamped = Math.min(Math.max(Number.isNaN(q) ? 0 : q, 0), 1);
    const rank = Math.max(1, Math.ceil(clamped * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) {
        // The extremes are known exactly, and the overflow bucket's midpoint means nothing.
        if (rank === 1) return this.#min;
        if (rank === this.#count || i === BUCKETS - 1) return this.#max;
        const mid = Math.round(bucketMidpoint(i));
        return Math.min(Math.max(mid, this.#min), this.#max);
      }
    }
    return this.#max;
  }

  /** How many samples were recorded. */
  get count(): number {
    return this.#count;
  }
}

function bucketIndex(value: number): number {
  const v = Math.min(value, MAX_TRACKED);
  if (v < SUB_BUCKETS) return v;
  const exponent = 31 - Math.clz32(v);
  const shift = exponent - SUB_BITS;
  // (v >> shift) lies in [64, 128): its low 6 bits pick the sub-bucket.
  return SUB_BUCKETS + shift * SUB_BUCKETS + ((v >> shift) - SUB_BUCKETS);
}

function bucketLow(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const shift = Math.floor(index / SUB_BUCKETS) - 1;
  const sub = index % SUB_BUCKETS;
  return (SUB_BUCKETS + sub) * 2 ** shift;
}

function bucketMidpoint(index: number): number {
  if (index < SUB_BUCKETS) return index;
  const width = 2 ** (Math.floor(index / SUB_BUCKETS) - 1);
  // Buckets hold whole ms, so the middle of [low, low + width - 1].
  return bucketLow(index) + (width - 1) / 2;
}
