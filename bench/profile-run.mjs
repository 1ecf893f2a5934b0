// CPU profile of one job: starts a local origin and a fresh server, starts
// scripts/profile.mjs against wrangler's inspector proxy, submits N URLs at concurrency C
// against an origin answering in L ms, and prints where the runtime's time went.
//
//   npm run bench:profile -- [N=10000] [C=200] [latencyMs=50] [seconds=12]
//
// Needs port 9229 free (the inspector proxy of the server it starts).
import { spawn } from 'node:child_process';
import {
  freePort,
  freshStateDir,
  ROOT,
  runPagesJob,
  sleep,
  startOrigin,
  startServer,
} from '../scripts/lib/harness.mjs';

const [n = 10_000, c = 200, latency = 50, seconds = 12] = process.argv.slice(2).map(Number);
const out = `${freshStateDir('profile-')}/job.cpuprofile`;
const origin = await startOrigin({ latencyMs: latency });
const server = await startServer({
  port: await freePort(),
  persistDir: freshStateDir('profile-state-'),
  logPath: `${freshStateDir('profile-log-')}/server.log`,
});
try {
  await sleep(800);
  const profiler = spawn(
    process.execPath,
    [`${ROOT}/scripts/profile.mjs`, String(seconds), 'ws://127.0.0.1:9229/ws', out],
    { stdio: 'inherit' },
  );
  const exited = new Promise((resolve) => profiler.once('exit', resolve));
  await sleep(1000);
  const { t0, view } = await runPagesJob(server.base, origin, 'profile', n, c, 100);
  const ms = Date.parse(view.finishedAt ?? '') - t0;
  console.error(`job ${view.status} in ${ms} ms; the profile runs on for its ${seconds} s`);
  await exited;
} finally {
  await server.kill();
  await origin.close();
}
