// Where a job's time went, from the origin's account of its requests ([start, end] epoch ms
// each, `/__timeline`): how fast the connections filled at the start (ramp), how long a freed
// connection waited for its next request (slot reuse lag), how full they were in each window,
// and how long they sat idle at the end (drain). A job of N uniform pages at concurrency C then
// takes about: ramp mean + ceil(N/C) x latency + the rounds' lag + drain mean.

/**
 * @param {Array<[number, number]>} spans each request's start and end, epoch ms
 * @param {number} t0 when the job was submitted, epoch ms
 * @param {number} c the job's concurrency
 * @param {number} windowMs the window of the in-flight series (the origin's latency)
 */
export function timelineStats(spans, t0, c, windowMs) {
  const starts = spans.map(([s]) => s - t0).sort((a, b) => a - b);
  const ends = spans.map(([, e]) => e - t0).sort((a, b) => a - b);
  const first = starts.slice(0, c);
  const last = ends.slice(-c);
  const lastEnd = ends.at(-1) ?? Number.NaN;
  return {
    firstStartMs: starts[0] ?? Number.NaN,
    lastEndMs: lastEnd,
    // The first C requests each take a connection: when they started, on average and the last.
    rampMeanMs: mean(first),
    rampLastMs: first.at(-1) ?? Number.NaN,
    // The last C responses each free a connection for good: how long it then idled, on average.
    drainMeanMs: mean(last.map((e) => lastEnd - e)),
    // The k-th request after the first C reuses the connection freed by the (k-C)-th response.
    lagMs: starts.slice(c).map((s, k) => s - (ends[k] ?? s)),
    inFlight: inFlightPerWindow(spans, t0, windowMs),
  };
}

/**
 * Mean requests in flight per window of `windowMs` from t0 (millisecond resolution).
 * @param {Array<[number, number]>} spans @param {number} t0 @param {number} windowMs
 */
function inFlightPerWindow(spans, t0, windowMs) {
  /** @type {number[]} */
  const busy = [];
  for (const [s, e] of spans) {
    for (let t = Math.max(0, s - t0); t < e - t0; t++) {
      const w = Math.floor(t / windowMs);
      busy[w] = (busy[w] ?? 0) + 1;
    }
  }
  return Array.from(busy, (b) => (b ?? 0) / windowMs);
}

/** @param {number[]} xs */
function mean(xs) {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
