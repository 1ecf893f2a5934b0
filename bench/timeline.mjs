// Where a job's time goes, seen from the origin: runs one job against a fresh local server
// and prints the ramp (how fast the connections filled), the mean requests in flight per
// latency-long window, how long a finished request's connection waited before the next request
// started (slot reuse lag) and the drain (how long connections idled at the end).
//
//   npm run bench:timeline -- [N=1000] [C=50] [latencyMs=250]
import {
  freePort,
  freshStateDir,
  percentile,
  runPagesJob,
  sleep,
  startOrigin,
  startServer,
} from '../scripts/lib/harness.mjs';
import { timelineStats } from '../scripts/lib/timeline-stats.mjs';

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
  const stats = timelineStats(spans, t0, c, latency);
  const api = Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt ?? '');
  const ms = (/** @type {number} */ x) => `${Math.round(x)} ms`;
  console.log(
    `${view.status}: API ${api} ms; first request at ${ms(stats.firstStartMs)}, last response at ${ms(stats.lastEndMs)}`,
  );
  console.log(
    `ramp: the first ${c} requests started ${ms(stats.rampMeanMs)} after the POST on average, ` +
      `the last of them at ${ms(stats.rampLastMs)}; drain: after its last response a connection ` +
      `idled ${ms(stats.drainMeanMs)} on average`,
  );
  console.log(
    `mean in flight per ${latency} ms window: ` +
      stats.inFlight.map((b, i) => `${i}:${b.toFixed(1)}`).join(' '),
  );
  const q = (/** @type {number} */ p) => percentile(stats.lagMs, p);
  console.log(
    `slot reuse lag ms: p10 ${q(10)} p50 ${q(50)} p90 ${q(90)} p99 ${q(99)} max ${q(100)}`,
  );
} finally {
  await server.kill();
  await origin.close();
}
