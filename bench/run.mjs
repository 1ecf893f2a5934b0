#!/usr/bin/env node
// The benchmark: runs scrape jobs through the real HTTP API (`scripts/start.mjs`, i.e. wrangler
// dev + workerd) against the local origin and compares the wall time with the floor
// ceil(N / C) x latency. See bench/README.md.
//
//   npm run bench                    # small + hosts
//   npm run bench -- small cpu       # chosen scenarios
//   npm run bench -- all --runs 3    # every scenario, 3 runs each, medians reported
import { spawnSync } from 'node:child_process';
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
  median,
  ORIGIN_HOSTS,
  percentile,
  procMeter,
  ROOT,
  resultsStamp,
  sleep,
  startOrigin,
  startServer,
  submitJob,
  TERMINAL,
} from '../scripts/lib/harness.mjs';
import { StallWatch } from '../scripts/lib/stall-watch.mjs';
import { JOB_COLUMNS, tableLines } from '../scripts/lib/table.mjs';

/**
 * @typedef {{ name: string, n: number, latencyMs: number, concurrency: number,
 *   perHostConcurrency: number, hosts: string[], note: string }} Scenario
 */

/** @type {Record<string, Scenario>} */
const SCENARIOS = {
  small: {
    name: 'small',
    n: 1_000,
    latencyMs: 250,
    concurrency: 50,
    perHostConcurrency: 50,
    hosts: ['127.0.0.1'],
    note: 'latency-bound; target <= 1.05x floor (runtime floor: npm run bench:floor)',
  },
  mid: {
    name: 'mid',
    n: 2_000,
    latencyMs: 100,
    concurrency: 100,
    perHostConcurrency: 100,
    hosts: ['127.0.0.1'],
    note: 'per-round cost; target <= 1.18x floor (the seed aiohttp scraper here)',
  },
  cpu: {
    name: 'cpu',
    n: 10_000,
    latencyMs: 50,
    concurrency: 200,
    perHostConcurrency: 200,
    hosts: ['127.0.0.1'],
    note: 'CPU-bound on 2 cores; beat aiohttp (4.3x floor, 10.7 s)',
  },
  big: {
    name: 'big',
    n: 100_000,
    latencyMs: 20,
    concurrency: 500,
    perHostConcurrency: 500,
    hosts: ['127.0.0.1'],
    note: 'ingest (POST round trip) < 2 s; completes; memory bounded',
  },
  hosts: {
    name: 'hosts',
    n: 2_000,
    latencyMs: 50,
    concurrency: 16,
    perHostConcurrency: 4,
    hosts: ORIGIN_HOSTS,
    note: 'per-host limit: origin maxInFlight per host must be <= 4',
  },
};
const DEFAULT_SCENARIOS = ['small', 'hosts'];
/** Benchmarks with a script of their own (`npm run bench -- compare`). */
const OWN_SCRIPTS = ['compare', 'render'];
const POLL_MS = 100;
const RESULTS_DIR = join(ROOT, 'bench', 'results');

/** @param {Scenario} s  ceil(N / effective C) x L, in ms. */
function floorMs(s) {
  const effective = Math.min(s.concurrency, s.perHostConcurrency * s.hosts.length);
  return Math.ceil(s.n / effective) * s.latencyMs;
}

/**
 * @typedef {import('../scripts/lib/harness.mjs').JobView} JobView
 * @typedef {import('../scripts/lib/harness.mjs').OriginStats} OriginStats
 * @typedef {Awaited<ReturnType<typeof startServer>>} Server
 * @typedef {Awaited<ReturnType<typeof startOrigin>>} Origin
 * @typedef {(msg: string) => void} Warn
 * @typedef {{ s: Scenario, runNo: number, tag: string, logPath: string, floor: number,
 *   limitMs: number, warnings: string[], warn: Warn, origin: Origin, server: Server }} Run
 *   One run of a scenario: what it is, where it logs, what it found wrong so far.
 * @typedef {ReturnType<typeof startMeters>} Meters
 * @typedef {Awaited<ReturnType<typeof pollToEnd>>} Polled
 * @typedef {ReturnType<typeof stopMeters>} Usage
 * @typedef {ReturnType<typeof jobTimes>} JobTimes
 */

/**
 * The scenario's URLs: distinct /bench pages, spread over its hosts in turn.
 * @param {Scenario} s @param {Origin} origin @param {string} tag
 */
function scenarioUrls(s, origin, tag) {
  const urls = new Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const host = /** @type {string} */ (s.hosts[i % s.hosts.length]);
    urls[i] = `${origin.baseUrl(host)}/bench/${i}?tag=${tag}`;
  }
  return urls;
}

/**
 * CPU and memory meters of the server's workerd processes and of its whole tree, first
 * samples taken; the RSS series starts empty.
 * @param {Server} server @param {Warn} warn
 */
function startMeters(server, warn) {
  const workerd = procMeter(() => server.workerdPids());
  const tree = procMeter(() => server.treePids());
  workerd.sample();
  tree.sample();
  if (workerd.pids().length === 0)
    warn('no workerd process found under the server: CPU/memory not measured');
  const initialWorkerd = workerd.pids();
  const load0 = os.loadavg();
  const lastSample = performance.now();
  /** [seconds since submit, workerd RSS MB] every 5 s: flat means memory is bounded. */
  /** @type {Array<[number, number]>} */
  const rssSeries = [];
  const lastRss = performance.now();
  return { workerd, tree, initialWorkerd, load0, lastSample, rssSeries, lastRss };
}

/**
 * Samples the meters every 0.5 s, and the workerd RSS into the series every 5 s.
 * @param {Meters} m @param {number} t0
 */
function sampleMeters(m, t0) {
  if (performance.now() - m.lastSample > 500) {
    m.lastSample = performance.now();
    m.workerd.sample();
    m.tree.sample();
    if (performance.now() - m.lastRss >= 5_000) {
      m.lastRss = performance.now();
      m.rssSeries.push([
        Number(((m.lastRss - t0) / 1000).toFixed(1)),
        Math.round(m.workerd.rssMB()),
      ]);
    }
  }
}

/**
 * Polls the job every POLL_MS until it ends (or limitMs passed), sampling the meters.
 * A job that stops moving gets one CPU profile of the runtime (`stall`, see StallWatch).
 * @param {string} base @param {string} jobId @param {number} t0 @param {number} limitMs
 * @param {Meters} meters @param {Warn} warn @param {StallWatch} stall
 */
async function pollToEnd(base, jobId, t0, limitMs, meters, warn, stall) {
  /** @type {number[]} */
  const pollMs = [];
  let pollErrors = 0;
  /** @type {JobView | null} */
  let view = null;
  /** When the poll saw the terminal status (up to POLL_MS late). */
  let seenMs = Number.NaN;
  let lastPrint = performance.now();
  for (;;) {
    const p0 = performance.now();
    try {
      view = await getJob(base, jobId, 10_000);
      pollMs.push(performance.now() - p0);
    } catch (err) {
      pollErrors++;
      if (pollErrors <= 5) warn(`status read failed: ${/** @type {Error} */ (err).message}`);
    }
    sampleMeters(meters, t0);
    const stalled = await stall.observe(view);
    if (stalled) warn(stalled);
    if (view && TERMINAL.has(view.status)) {
      seenMs = performance.now() - t0;
      break;
    }
    if (performance.now() - t0 > limitMs) {
      warn(
        `gave up after ${fmtS(limitMs)} s (10x floor + 60 s); last status ${view?.status} ${JSON.stringify(view?.counts)}`,
      );
      break;
    }
    if (performance.now() - lastPrint > 5_000) {
      lastPrint = performance.now();
      printProgress(view, t0);
    }
    const spent = performance.now() - p0;
    await sleep(Math.max(0, POLL_MS - spent));
  }
  return { view, pollMs, pollErrors, seenMs };
}

/** @param {JobView | null} view @param {number} t0 */
function printProgress(view, t0) {
  const c = view?.counts;
  console.log(
    `  ... ${fmtS(performance.now() - t0)} s: ${view?.status} ` +
      (c
        ? `ok=${c.succeeded} failed=${c.failed} inFlight=${c.inFlight} queued=${c.queued} retrying=${c.retrying}`
        : ''),
  );
}

/**
 * Last samples once the job ended; warns about workerd restarts and wrangler reloads.
 * @param {Meters} m @param {Server} server @param {Warn} warn
 */
function stopMeters(m, server, warn) {
  m.workerd.sample();
  m.tree.sample();
  const load1 = os.loadavg();
  for (const p of m.workerd.pids()) {
    if (!m.initialWorkerd.includes(p))
      warn(`workerd pid ${p} appeared during the run (a reload or restart?)`);
  }
  const cpuS = m.workerd.cpuS();
  const reloads = server.reloads();
  if (reloads > 0) {
    warn(
      `wrangler reloaded the worker ${reloads}x during the run (a source file changed): ` +
        'in-flight work was dropped, numbers are not representative',
    );
  }
  const treeCpuS = m.tree.cpuS();
  return { load1, cpuS, reloads, treeCpuS };
}

/**
 * Warns about whatever the job and the origin say went wrong; the origin's max in flight per
 * host.
 * @param {Scenario} s @param {JobView | null} view @param {OriginStats | null} stats
 * @param {Warn} warn
 */
function checkOutcome(s, view, stats, warn) {
  const counts = view?.counts;
  if (!view || !TERMINAL.has(view.status)) warn('job did not reach a terminal status');
  else if (view.status !== 'completed') warn(`job ended ${view.status}`);
  if (counts && counts.succeeded !== s.n) {
    warn(
      `succeeded ${counts.succeeded} != N ${s.n} (failed ${counts.failed}, cancelled ${counts.cancelled})`,
    );
  }
  if (stats && stats.requests !== s.n)
    warn(`origin saw ${stats.requests} requests for ${s.n} URLs`);
  if (stats && stats.maxInFlight > s.concurrency) {
    warn(`origin maxInFlight ${stats.maxInFlight} > concurrency ${s.concurrency}`);
  }
  /** @type {Record<string, number>} */
  const perHostMax = {};
  if (stats) {
    for (const [h, v] of Object.entries(stats.byHost)) perHostMax[h] = v.maxInFlight;
    if (s.hosts.length > 1) {
      for (const [h, m] of Object.entries(perHostMax)) {
        if (m > s.perHostConcurrency)
          warn(`host ${h}: maxInFlight ${m} > perHostConcurrency ${s.perHostConcurrency}`);
      }
    }
  }
  return perHostMax;
}

/**
 * Submit-to-completed: from just before the POST to the job's own finishedAt (same clock:
 * the server runs on this machine), so polling granularity does not count. Also the job's
 * own created-to-finished and started-to-finished.
 * @param {JobView | null} view @param {number} t0Epoch
 */
function jobTimes(view, t0Epoch) {
  const wallMs =
    view?.finishedAt && TERMINAL.has(view.status)
      ? Date.parse(view.finishedAt) - t0Epoch
      : Number.NaN;
  const apiMs =
    view?.createdAt && view.finishedAt
      ? Date.parse(view.finishedAt) - Date.parse(view.createdAt)
      : Number.NaN;
  const apiRunMs =
    view?.startedAt && view.finishedAt
      ? Date.parse(view.finishedAt) - Date.parse(view.startedAt)
      : Number.NaN;
  return { wallMs, apiMs, apiRunMs };
}

/**
 * The record of one run, as stored in the results JSON.
 * @param {Run} run
 * @param {{ jobId: string, ingestMs: number, t0Epoch: number, times: JobTimes, polled: Polled,
 *   meters: Meters, usage: Usage, stats: OriginStats | null,
 *   perHostMax: Record<string, number> }} m
 */
function runRecord(run, m) {
  const { s, floor } = run;
  const { jobId, ingestMs, t0Epoch, polled, meters, usage, stats, perHostMax } = m;
  const { view, pollMs } = polled;
  const { wallMs, apiMs, apiRunMs } = m.times;
  const { cpuS } = usage;
  return {
    scenario: s.name,
    run: run.runNo,
    tag: run.tag,
    jobId,
    n: s.n,
    concurrency: s.concurrency,
    perHostConcurrency: s.perHostConcurrency,
    hosts: s.hosts.length,
    latencyMs: s.latencyMs,
    floorS: floor / 1000,
    ingestS: ingestMs / 1000,
    wallS: wallMs / 1000,
    xFloor: wallMs / floor,
    seenS: polled.seenMs / 1000,
    apiCreatedToFinishedS: apiMs / 1000,
    apiStartedToFinishedS: apiRunMs / 1000,
    status: view?.status ?? null,
    counts: view?.counts ?? null,
    jobStats: view?.stats ?? null,
    cpuS,
    treeCpuS: usage.treeCpuS,
    cpuMsPer1kPages: (cpuS * 1000) / (s.n / 1000),
    peakRssMB: meters.workerd.peakMB(),
    rssSeries: meters.rssSeries,
    workerdPids: meters.workerd.pids(),
    loadAvg1mBefore: meters.load0[0],
    loadAvg1mAfter: usage.load1[0],
    statusReads: pollMs.length,
    statusReadErrors: polled.pollErrors,
    statusP50Ms: percentile(pollMs, 50),
    statusP99Ms: percentile(pollMs, 99),
    statusMaxMs: pollMs.length ? Math.max(...pollMs) : Number.NaN,
    origin: stats
      ? {
          requests: stats.requests,
          maxInFlight: stats.maxInFlight,
          aborted: stats.aborted,
          perHostMaxInFlight: perHostMax,
          // Where the time went: POST to the first request the origin saw, the mean
          // requests in flight while it was busy (C at best), last response to the end.
          firstRequestS: (stats.firstAt - t0Epoch) / 1000,
          avgInFlight: stats.avgInFlight,
          lastResponseS: (stats.lastEndAt - t0Epoch) / 1000,
        }
      : null,
    serverReadyS: run.server.readyMs / 1000,
    reloads: usage.reloads,
    serverLog: run.logPath,
    warnings: run.warnings,
  };
}

/**
 * The run's one-line summary.
 * @param {ReturnType<typeof runRecord>} result @param {Scenario} s @param {JobTimes} times
 * @param {number} t0Epoch
 * @param {{ meters: Meters, usage: Usage, stats: OriginStats | null,
 *   perHostMax: Record<string, number> }} m
 */
function printRun(result, s, { wallMs, apiMs }, t0Epoch, { meters, usage, stats, perHostMax }) {
  console.log(
    `  ${result.status}: wall ${fmtS(wallMs)} s (${result.xFloor.toFixed(2)}x floor), API ${fmtS(apiMs)} s, ` +
      `workerd CPU ${usage.cpuS.toFixed(2)} s, peak RSS ${result.peakRssMB.toFixed(0)} MB, ` +
      `status p50/p99 ${result.statusP50Ms.toFixed(1)}/${result.statusP99Ms.toFixed(1)} ms, ` +
      `load avg ${meters.load0[0]?.toFixed(1)} -> ${usage.load1[0]?.toFixed(1)}` +
      (stats
        ? `, origin requests ${stats.requests} maxInFlight ${stats.maxInFlight}` +
          ` avgInFlight ${stats.avgInFlight.toFixed(1)}` +
          ` first/last at ${fmtS(stats.firstAt - t0Epoch)}/${fmtS(stats.lastEndAt - t0Epoch)} s`
        : '') +
      (s.hosts.length > 1 ? `, per host ${JSON.stringify(perHostMax)}` : ''),
  );
}

/**
 * Measures one run on a started server: the job submitted, polled to its end, checked and
 * recorded.
 * @param {Run} run
 */
async function measureRun(run) {
  const { s, server, warn } = run;
  const base = server.base;
  const urls = scenarioUrls(s, run.origin, run.tag);
  const job = {
    urls,
    concurrency: s.concurrency,
    perHostConcurrency: s.perHostConcurrency,
    timeoutMs: 30_000,
    retry: { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 5_000 },
  };

  // Let wrangler and workerd settle after start-up before taking the CPU baseline.
  await sleep(500);
  const meters = startMeters(server, warn);

  const t0 = performance.now();
  const t0Epoch = Date.now();
  const accepted = await submitJob(base, job, 120_000);
  const ingestMs = performance.now() - t0;
  if (accepted.accepted !== s.n) warn(`accepted ${accepted.accepted} of ${s.n} URLs`);
  console.log(`  job ${accepted.id} accepted ${accepted.accepted} in ${ingestMs.toFixed(0)} ms`);

  const stall = new StallWatch({ out: join(RESULTS_DIR, `${run.tag}-stall.cpuprofile`) });
  const polled = await pollToEnd(base, accepted.id, t0, run.limitMs, meters, warn, stall);
  const usage = stopMeters(meters, server, warn);
  const stats = await run.origin.stats(run.tag).catch(() => null);
  const perHostMax = checkOutcome(s, polled.view, stats, warn);
  const times = jobTimes(polled.view, t0Epoch);
  const measured = { meters, usage, stats, perHostMax };
  const result = runRecord(run, {
    jobId: accepted.id,
    ingestMs,
    t0Epoch,
    times,
    polled,
    ...measured,
  });
  printRun(result, s, times, t0Epoch, measured);
  return result;
}

/**
 * One run of one scenario: fresh origin, fresh server state, one job, polled to the end.
 * @param {Scenario} s
 * @param {number} runNo
 * @param {string} stamp
 */
async function runScenario(s, runNo, stamp) {
  const tag = `${s.name}-${stamp}-r${runNo}`;
  const logPath = join(RESULTS_DIR, `${s.name}-${stamp}-r${runNo}.log`);
  const floor = floorMs(s);
  const limitMs = 10 * floor + 60_000;
  /** @type {string[]} */
  const warnings = [];
  const warn = (/** @type {string} */ msg) => {
    warnings.push(msg);
    console.warn(`  WARNING: ${msg}`);
  };

  const origin = await startOrigin({ latencyMs: s.latencyMs });
  const port = await freePort();
  const persistDir = freshStateDir(`bench-${s.name}-`);
  console.log(
    `\n[${s.name} run ${runNo}] N=${s.n} C=${s.concurrency} perHost=${s.perHostConcurrency} ` +
      `L=${s.latencyMs}ms hosts=${s.hosts.length} floor=${fmtS(floor)}s; server log: ${logPath}`,
  );
  /** @type {Server | null} */
  let server = null;
  try {
    server = await startServer({ port, persistDir, logPath });
    console.log(
      `  server ready in ${fmtS(server.readyMs)} s on ${server.base} (state ${persistDir})`,
    );
    const run = { s, runNo, tag, logPath, floor, limitMs, warnings, warn, origin, server };
    return await measureRun(run);
  } finally {
    if (server) {
      const k = await server.kill();
      if (!k.dead)
        console.warn(`  WARNING: server processes survived SIGKILL: ${k.survivors.join(', ')}`);
    }
    await origin.close();
  }
}

/** @typedef {Awaited<ReturnType<typeof runScenario>>} RunResult */

/**
 * The median of every numeric field over the runs of one scenario.
 * @param {RunResult[]} runs
 */
function summarize(runs) {
  const first = /** @type {RunResult} */ (runs[0]);
  /** @param {(r: RunResult) => number} f */
  const med = (f) => median(runs.map(f));
  return {
    scenario: first.scenario,
    runs: runs.length,
    n: first.n,
    concurrency: first.concurrency,
    perHostConcurrency: first.perHostConcurrency,
    hosts: first.hosts,
    latencyMs: first.latencyMs,
    floorS: first.floorS,
    ingestS: med((r) => r.ingestS),
    wallS: med((r) => r.wallS),
    xFloor: med((r) => r.xFloor),
    apiCreatedToFinishedS: med((r) => r.apiCreatedToFinishedS),
    cpuS: med((r) => r.cpuS),
    treeCpuS: med((r) => r.treeCpuS),
    cpuMsPer1kPages: med((r) => r.cpuMsPer1kPages),
    peakRssMB: med((r) => r.peakRssMB),
    statusP50Ms: med((r) => r.statusP50Ms),
    statusP99Ms: med((r) => r.statusP99Ms),
    originMaxInFlight: Math.max(...runs.map((r) => r.origin?.maxInFlight ?? 0)),
    perHostMaxInFlight: Math.max(
      ...runs.map((r) => Math.max(0, ...Object.values(r.origin?.perHostMaxInFlight ?? {}))),
    ),
    allSucceeded: runs.every((r) => r.counts?.succeeded === r.n && r.status === 'completed'),
    warnings: runs.flatMap((r) => r.warnings.map((w) => `run ${r.run}: ${w}`)),
  };
}

/** @param {ReturnType<typeof summarize>[]} rows */
function printTable(rows) {
  const head = [
    'scenario',
    ...JOB_COLUMNS,
    'CPU ms/1k pages',
    'peak RSS MB',
    'status p99 ms',
    'ingest s',
    'API s',
    'max infl',
    'ok',
  ];
  const f = (/** @type {number} */ x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const body = rows.map((r) => [
    r.runs > 1 ? `${r.scenario} (median of ${r.runs})` : r.scenario,
    String(r.n),
    r.hosts > 1 ? `${r.concurrency} (${r.perHostConcurrency}/host)` : String(r.concurrency),
    `${r.latencyMs} ms`,
    f(r.floorS),
    f(r.wallS),
    f(r.xFloor),
    f(r.cpuS),
    f(r.cpuMsPer1kPages, 0),
    f(r.peakRssMB, 0),
    f(r.statusP99Ms, 1),
    f(r.ingestS),
    f(r.apiCreatedToFinishedS),
    r.hosts > 1
      ? `${r.originMaxInFlight} (${r.perHostMaxInFlight}/host)`
      : String(r.originMaxInFlight),
    r.allSucceeded ? 'yes' : 'NO',
  ]);
  console.log(`\n${tableLines(head, body).join('\n')}`);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { runs: { type: 'string', default: '1' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(
      `usage: npm run bench -- [${[...Object.keys(SCENARIOS), ...OWN_SCRIPTS].join('|')}|all ...] [--runs N]`,
    );
    return 0;
  }
  const runs = Math.max(1, Math.min(20, Math.floor(Number(values.runs)) || 1));
  // Change detection and rendering are several jobs each, not one job against the floor: their
  // own scripts (bench/compare.mjs, bench/render.mjs).
  for (const own of OWN_SCRIPTS.filter((n) => positionals.includes(n))) {
    const script = join(ROOT, 'bench', `${own}.mjs`);
    const child = spawnSync(process.execPath, [script, String(runs)], { stdio: 'inherit' });
    if (child.status !== 0) return child.status ?? 1;
  }
  let names = positionals.filter((n) => !OWN_SCRIPTS.includes(n));
  if (names.length === 0 && positionals.length > 0) return 0;
  if (names.length === 0) names = DEFAULT_SCENARIOS;
  if (names.includes('all')) names = Object.keys(SCENARIOS);
  for (const n of names) {
    if (!SCENARIOS[n]) {
      console.error(`unknown scenario "${n}"; known: ${Object.keys(SCENARIOS).join(', ')}, all`);
      return 2;
    }
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const machine = machineInfo();
  const startedAt = new Date();
  const stamp = resultsStamp(startedAt);
  console.log(
    `bench: ${names.join(', ')} x ${runs} run(s) on ${machine.cpuModel} x${machine.cpus}, ` +
      `${machine.totalMemMB} MB, node ${machine.node}`,
  );

  const summaries = [];
  /** @type {Record<string, RunResult[]>} */
  const allRuns = {};
  let failed = false;
  for (const name of names) {
    const s = /** @type {Scenario} */ (SCENARIOS[name]);
    /** @type {RunResult[]} */
    const results = [];
    for (let r = 1; r <= runs; r++) {
      try {
        results.push(await runScenario(s, r, stamp));
      } catch (err) {
        failed = true;
        console.error(`  [${name} run ${r}] FAILED: ${/** @type {Error} */ (err).stack ?? err}`);
      }
    }
    if (results.length === 0) continue;
    const summary = summarize(results);
    summaries.push(summary);
    allRuns[name] = results;
    if (!summary.allSucceeded) failed = true;
    const file = join(RESULTS_DIR, `${name}-${stamp}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ machine, startedAt, scenario: s, summary, runs: results }, null, 2)}\n`,
    );
  }
  if (summaries.length > 0) printTable(summaries);
  writeFileSync(
    join(RESULTS_DIR, 'latest.json'),
    `${JSON.stringify({ machine, startedAt, finishedAt: new Date(), summaries, runs: allRuns }, null, 2)}\n`,
  );
  console.log(`\nresults: bench/results/latest.json and bench/results/<scenario>-${stamp}.json`);
  for (const sm of summaries)
    for (const w of sm.warnings) console.warn(`WARNING ${sm.scenario} ${w}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
