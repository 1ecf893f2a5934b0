#!/usr/bin/env node
// The runtime's own floor for a job, on this machine and now: the same local origin and
// latency, the same N and concurrency, but the URLs split up front over shard objects of 6
// connections that only run fetchPage (scripts/perf/worker.ts, `/floor`): no HTTP API, no
// coordinator, no storage, no reports. What the full service adds is the difference between
// `npm run bench` and this.
//
//   npm run bench:floor                      # 1,000 URLs, C=50, 250 ms, 3 runs
//   npm run bench:floor -- 10000 200 50 --runs 5
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  freePort,
  freshStateDir,
  machineInfo,
  median,
  ROOT,
  resultsStamp,
  sleep,
  startOrigin,
  startServer,
} from '../scripts/lib/harness.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '3' } },
});
const [n = 1000, c = 50, latencyMs = 250] = positionals.map(Number);
const runs = Math.max(1, Math.min(20, Number(values.runs) || 3));
const floorMs = Math.ceil(n / c) * latencyMs;
const stamp = resultsStamp();
const outDir = join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });

const origin = await startOrigin({ latencyMs });
const server = await startServer({
  port: await freePort(),
  persistDir: freshStateDir('floor-'),
  logPath: join(outDir, `floor-${stamp}.log`),
  extraArgs: ['-c', join(ROOT, 'scripts', 'perf', 'wrangler.toml')],
});
/** @param {string} tag @param {number} count @param {number} run */
async function floorRun(tag, count, run) {
  const url = `${origin.baseUrl()}/bench/0?tag=${tag}`;
  const q = `url=${encodeURIComponent(url)}&n=${count}&c=${c}&run=${run}`;
  const res = await fetch(`${server.base}/floor?${q}`);
  if (!res.ok) throw new Error(`/floor -> ${res.status} ${await res.text()}`);
  const body = /** @type {{ wallMs: number, failed: number, firstError: string }} */ (
    await res.json()
  );
  const stats = /** @type {{ requests: number, maxInFlight: number }} */ (await origin.stats(tag));
  return { ...body, requests: stats.requests, maxInFlight: stats.maxInFlight };
}
try {
  await sleep(500);
  // One warm-up job first (JIT, pooled connections), as a server that has run a job is.
  await floorRun(`floor-${stamp}-warm`, Math.min(n, 4 * c), 0);
  const results = [];
  for (let r = 1; r <= runs; r++) {
    const out = await floorRun(`floor-${stamp}-r${r}`, n, r);
    results.push({ run: r, ...out, xFloor: out.wallMs / floorMs });
    console.log(
      `  run ${r}: ${(out.wallMs / 1000).toFixed(2)} s = ${(out.wallMs / floorMs).toFixed(3)}x floor` +
        ` (origin requests ${out.requests}, maxInFlight ${out.maxInFlight}, failed ${out.failed})`,
    );
    if (out.failed > 0) console.log(`  first failure: ${out.firstError}`);
  }
  const wallMs = median(results.map((x) => x.wallMs));
  console.log(
    `runtime floor, N=${n} C=${c} L=${latencyMs} ms (floor ${(floorMs / 1000).toFixed(2)} s): ` +
      `median of ${runs} ${(wallMs / 1000).toFixed(2)} s = ${(wallMs / floorMs).toFixed(3)}x`,
  );
  const machine = machineInfo();
  const file = join(outDir, `floor-${stamp}.json`);
  const summary = { n, concurrency: c, latencyMs, floorS: floorMs / 1000, wallS: wallMs / 1000 };
  writeFileSync(
    file,
    `${JSON.stringify({ machine, stamp, summary: { ...summary, xFloor: wallMs / floorMs }, runs: results }, null, 2)}\n`,
  );
  console.log(`results: ${file}`);
} finally {
  await server.kill();
  await origin.close();
}
