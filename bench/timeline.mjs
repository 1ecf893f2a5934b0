// Where a job's time goes, seen from the origin: runs one job against a fresh local server
// and prints the mean requests in flight per latency-long window and how long a finished
// request's connection waited before the next request started (slot reuse lag).
//
//   npm run bench:timeline -- [N=1000] [C=50] [latencyMs=250]
import {
  freePort,
  freshStateDir,
  runPagesJob,
  sleep,
  startOrigin,
  startServer,
} from '../scripts/lib/harness.mjs';

const [n = 1000, c = 50, latency = 250] = process.argv.slice(2).map(Number);
const origin = await startOrigin({ latencyMs: latency });
const logPath = `${freshStateDir('timeline-log-')}/server.log`;
const server = await startServer({
  port: await freePort(),
  persistDir: freshStateDir('timeline-'),
  logPath,
});
try {
  await sleep(500);
  const { tag, t0, view } = await runPagesJob(server.base, origin, 'timeline', n, c, 50);
  const res = await fetch(`${origin.baseUrl()}/__timeline?tag=${tag}`);
  const spans = /** @type {Array<[number, number]>} */ (await res.json());
  const starts = spans.map(([s]) => s - t0).sort((a, b) => a - b);
  const ends = spans.map(([, e]) => e - t0).sort((a, b) => a - b);
  const api = Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt ?? '');
  console.log(
    `${view.status}: API ${api} ms; first request at ${starts[0]} ms, last response at ${ends.at(-1)} ms`,
  );
  /** @type {number[]} */
  const busy = [];
  for (const [s, e] of spans) {
    for (let t = s - t0; t < e - t0; t++) {
      const w = Math.floor(t / latency);
      busy[w] = (busy[w] ?? 0) + 1;
    }
  }
  console.log(
    `mean in flight per ${latency} ms window: ` +
      Array.from(busy, (b, i) => `${i}:${((b ?? 0) / latency).toFixed(1)}`).join(' '),
  );
  // The k-th request after the first C reuses the slot freed by the (k-C)-th response.
  /** @type {number[]} */
  const lags = [];
  for (let k = c; k < starts.length; k++) lags.push(starts[k] - ends[k - c]);
  lags.sort((a, b) => a - b);
  const q = (/** @type {number} */ p) => lags[Math.floor((lags.length - 1) * p)];
  console.log(
    `slot reuse lag ms: p10 ${q(0.1)} p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${lags.at(-1)}`,
  );
} finally {
  await server.kill();
  await origin.close();
}
