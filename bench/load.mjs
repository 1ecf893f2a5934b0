#!/usr/bin/env node
// The load test: the API under many clients while a big job runs. Starts the local origin and
// a fresh server (as `npm start` does), submits a job of --urls URLs, then for --duration
// seconds runs --connections autocannon connections, each looping over a mix of requests
// (scripts/lib/load-mix.mjs): create a small job, read the big job's and the new job's status,
// list jobs, read a page of the big job's Results. Reports requests/s and p50/p99 latency,
// overall and per kind; then waits for the big job to end and checks that it gave every URL
// exactly one Result (streamed as NDJSON). Exit code 1 on any non-2xx response, connection
// error or timeout, or a missing or doubled Result. See bench/README.md.
//
//   npm run load
//   npm run load -- --duration 5 --connections 10 --urls 1000     # a quick run
//   npm run load -- --profile 15     # CPU profile of workerd over the load (port 9229 free)
//   npm run load -- --only list,status-big   # only these kinds of request
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  fmtS,
  freePort,
  freshStateDir,
  getJob,
  machineInfo,
  procMeter,
  ROOT,
  resultsStamp,
  sleep,
  startOrigin,
  startServer,
  submitJob,
  TERMINAL,
  TOKEN,
} from '../scripts/lib/harness.mjs';
import { runMix } from '../scripts/lib/load-mix.mjs';

const RESULTS_DIR = join(ROOT, 'bench', 'results');

/**
 * @typedef {ReturnType<typeof options>} Options
 * @typedef {ReturnType<import('../scripts/lib/load-mix.mjs').KindStats['summary']>} Summary
 */

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '20' },
      connections: { type: 'string', default: '50' },
      urls: { type: 'string', default: '10000' },
      'job-concurrency': { type: 'string', default: '100' },
      latency: { type: 'string', default: '250' },
      'small-urls': { type: 'string', default: '3' },
      profile: { type: 'string', default: '0' },
      label: { type: 'string', default: '' },
      only: { type: 'string', default: '' },
    },
  });
  /** @param {string | undefined} v @param {number} min @param {number} max */
  const int = (v, min, max) => Math.max(min, Math.min(max, Math.floor(Number(v)) || min));
  return {
    durationS: int(values.duration, 1, 600),
    connections: int(values.connections, 1, 1000),
    urls: int(values.urls, 1, 100_000),
    jobConcurrency: int(values['job-concurrency'], 1, 1000),
    latencyMs: int(values.latency, 0, 10_000),
    smallUrls: int(values['small-urls'], 1, 100),
    profileS: int(values.profile, 0, 600),
    label: values.label ?? '',
    only: (values.only ?? '').split(',').filter(Boolean),
  };
}

/**
 * The big job and the small one every create submits: distinct origin pages, under tags of
 * their own at the origin.
 * @param {Options} o @param {string} baseUrl @param {string} tag
 */
function jobs(o, baseUrl, tag) {
  const urls = Array.from({ length: o.urls }, (_, i) => `${baseUrl}/bench/${i}?tag=${tag}`);
  const big = { urls, concurrency: o.jobConcurrency, timeoutMs: 30_000 };
  const smallUrls = Array.from(
    { length: o.smallUrls },
    (_, i) => `${baseUrl}/bench/s${i}?tag=${tag}-small`,
  );
  const small = { urls: smallUrls, concurrency: o.smallUrls, timeoutMs: 30_000 };
  return { urls, big, small };
}

/**
 * Starts the CPU profiler (scripts/profile.mjs) on the server's inspector for `seconds`;
 * resolves when it has written its profile and printed its summary.
 * @param {number} seconds @param {string} out
 */
function startProfiler(seconds, out) {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'scripts', 'profile.mjs'), String(seconds), 'ws://127.0.0.1:9229/ws', out],
    { stdio: 'inherit' },
  );
  return new Promise((resolve) => child.once('exit', resolve));
}

/**
 * Streams every Result of a job as NDJSON and counts rows, distinct URLs, URLs not in the
 * job, and rows whose URL came before.
 * @param {string} base @param {string} id @param {Set<string>} submitted
 */
async function countResults(base, id, submitted) {
  const res = await fetch(`${base}/v1/jobs/${id}/results`, {
    headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/x-ndjson' },
    signal: AbortSignal.timeout(300_000),
  });
  if (res.status !== 200 || !res.body) throw new Error(`results stream -> ${res.status}`);
  const seen = new Set();
  let rows = 0;
  let unknown = 0;
  let doubled = 0;
  let rest = '';
  /** @param {string} line */
  const take = (line) => {
    if (line === '') return;
    rows++;
    const url = /** @type {{ url: string }} */ (JSON.parse(line)).url;
    if (!submitted.has(url)) unknown++;
    if (seen.has(url)) doubled++;
    seen.add(url);
  };
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) take(line);
  }
  take(rest + decoder.decode());
  return { rows, distinct: seen.size, unknown, doubled };
}

/**
 * Polls the job until it is terminal (or `limitMs` passed).
 * @param {string} base @param {string} id @param {number} limitMs
 */
async function waitForEnd(base, id, limitMs) {
  const t0 = performance.now();
  let view = await getJob(base, id, 30_000);
  while (!TERMINAL.has(view.status) && performance.now() - t0 < limitMs) {
    await sleep(250);
    view = await getJob(base, id, 30_000);
  }
  return view;
}

/**
 * The load itself: the mix for the duration, with the workerd CPU it took and, if asked, a
 * CPU profile of it.
 * @param {Options} o @param {import('../scripts/lib/harness.mjs').Server} server
 * @param {string} bigId @param {Record<string, unknown>} small @param {string} stamp
 */
async function load(o, server, bigId, small, stamp) {
  const meter = procMeter(() => server.workerdPids());
  meter.sample();
  const load0 = os.loadavg()[0];
  const profileOut = join(RESULTS_DIR, `load-${stamp}.cpuprofile`);
  const profiled = o.profileS > 0 ? startProfiler(o.profileS, profileOut) : null;
  // Let the profiler attach before the load starts.
  if (profiled) await sleep(1_000);
  const t0 = performance.now();
  const mix = await runMix({
    base: server.base,
    connections: o.connections,
    durationS: o.durationS,
    bigId,
    smallJob: small,
    only: o.only,
  });
  const elapsedS = (performance.now() - t0) / 1000;
  meter.sample();
  const bigAfter = await getJob(server.base, bigId, 30_000);
  if (profiled) await profiled;
  return {
    ...mix,
    elapsedS,
    workerdCpuS: meter.cpuS(),
    loadAvg1m: [load0, os.loadavg()[0]],
    bigAfter,
    profile: profiled ? profileOut : null,
  };
}

/**
 * What the run found wrong: non-2xx responses, connection errors and timeouts during the load,
 * and a big job that did not give each URL exactly one Result.
 * @param {Options} o @param {Awaited<ReturnType<typeof load>>} l
 * @param {Summary} s
 * @param {import('../scripts/lib/harness.mjs').JobView} end
 * @param {Awaited<ReturnType<typeof countResults>>} counted
 */
function failures(o, l, s, end, counted) {
  const out = [];
  if (s.overall.status5xx > 0) out.push(`${s.overall.status5xx} responses were 5xx`);
  if (s.overall.non2xx > 0) out.push(`${s.overall.non2xx} responses were not 2xx`);
  if (l.result.errors > 0) out.push(`${l.result.errors} connection errors`);
  if (l.result.timeouts > 0) out.push(`${l.result.timeouts} timeouts`);
  if (!TERMINAL.has(end.status)) out.push(`the big job did not end (${end.status})`);
  if (counted.rows !== o.urls) out.push(`${counted.rows} Result rows for ${o.urls} URLs`);
  if (counted.distinct !== o.urls)
    out.push(`${counted.distinct} distinct URLs in the Results for ${o.urls}`);
  if (counted.unknown > 0) out.push(`${counted.unknown} Results for URLs not in the job`);
  if (counted.doubled > 0) out.push(`${counted.doubled} URLs with more than one Result`);
  return out;
}

/** @param {Options} o @param {Summary} s */
function printFigures(o, s) {
  const f = (/** @type {number} */ x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  console.log(
    `\n${o.connections} connections, ${o.durationS} s, during a ${o.urls}-URL job:` +
      ` ${f(s.overall.perSec)} requests/s, p50 ${f(s.overall.p50Ms)} ms,` +
      ` p99 ${f(s.overall.p99Ms)} ms, 5xx ${s.overall.status5xx}, non-2xx ${s.overall.non2xx}`,
  );
  for (const [kind, k] of Object.entries(s.byKind)) {
    console.log(
      `  ${kind.padEnd(15)} ${String(k.requests).padStart(6)} req ${f(k.perSec).padStart(7)}/s` +
        `  p50 ${f(k.p50Ms).padStart(7)} ms  p99 ${f(k.p99Ms).padStart(7)} ms` +
        `  max ${f(k.maxMs).padStart(7)} ms  ${JSON.stringify(k.statuses)}`,
    );
  }
}

/**
 * One load run on a started origin and server: the big job, the load, the end, the check.
 * @param {Options} o @param {import('../scripts/lib/harness.mjs').Origin} origin
 * @param {import('../scripts/lib/harness.mjs').Server} server @param {string} stamp
 */
async function measure(o, origin, server, stamp) {
  const tag = `load-${stamp}`;
  const { urls, big, small } = jobs(o, origin.baseUrl(), tag);
  await sleep(500);
  const t0 = performance.now();
  const accepted = await submitJob(server.base, big, 120_000);
  const ingestMs = performance.now() - t0;
  console.log(
    `big job ${accepted.id}: ${accepted.accepted} URLs accepted in ${ingestMs.toFixed(0)} ms`,
  );
  const l = await load(o, server, accepted.id, small, stamp);
  const s = l.stats.summary(o.durationS);
  printFigures(o, s);
  console.log(
    `  workerd CPU ${l.workerdCpuS.toFixed(1)} s over ${l.elapsedS.toFixed(1)} s;` +
      ` big job at the end of the load: ${l.bigAfter.status} ${JSON.stringify(l.bigAfter.counts)}`,
  );
  const end = await waitForEnd(server.base, accepted.id, 600_000);
  const counted = await countResults(server.base, accepted.id, new Set(urls));
  const bigEndS = (Date.parse(end.finishedAt ?? '') - Date.parse(end.createdAt ?? '')) / 1000;
  console.log(
    `big job ${end.status} after ${fmtS(bigEndS * 1000)} s: ${counted.rows} Results,` +
      ` ${counted.distinct} distinct URLs, ${counted.doubled} doubled, ${counted.unknown} unknown`,
  );
  const originStats = await origin.stats(tag).catch(() => null);
  const problems = failures(o, l, s, end, counted);
  if (server.reloads() > 0) problems.push(`wrangler reloaded the worker ${server.reloads()}x`);
  const autocannon = {
    requestsPerSecAvg: l.result.requests.average,
    requestsTotal: l.result.requests.total,
    latency2xx: l.result.latency,
    errors: l.result.errors,
    timeouts: l.result.timeouts,
    non2xx: l.result.non2xx,
    statusCodeStats: l.result.statusCodeStats,
  };
  return {
    ...s,
    autocannon,
    bigJob: { id: accepted.id, ingestMs, atLoadEnd: l.bigAfter, end, endS: bigEndS },
    results: counted,
    originRequests: originStats?.requests ?? null,
    workerdCpuS: l.workerdCpuS,
    loadAvg1m: l.loadAvg1m,
    profile: l.profile,
    problems,
  };
}

async function main() {
  const o = options();
  const stamp = resultsStamp();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const logPath = join(RESULTS_DIR, `load-${stamp}.log`);
  const origin = await startOrigin({ latencyMs: o.latencyMs });
  const server = await startServer({
    port: await freePort(),
    persistDir: freshStateDir('load-'),
    logPath,
  }).catch(async (err) => {
    await origin.close();
    throw err;
  });
  console.log(`server ready in ${fmtS(server.readyMs)} s on ${server.base}; log ${logPath}`);
  try {
    const measured = await measure(o, origin, server, stamp);
    const file = join(RESULTS_DIR, `load-${stamp}.json`);
    const record = { machine: machineInfo(), stamp, root: ROOT, options: o, ...measured };
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`results: ${file}`);
    for (const p of measured.problems) console.error(`FAIL: ${p}`);
    process.exitCode = measured.problems.length > 0 ? 1 : 0;
  } finally {
    await server.kill();
    await origin.close();
  }
}

await main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
