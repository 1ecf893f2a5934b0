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
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  fmtS,
  freePort,
  freshStateDir,
  getJob,
  machineInfo,
  ROOT,
  resultsStamp,
  sleep,
  startOrigin,
  startServer,
  submitJob,
  TERMINAL,
} from '../scripts/lib/harness.mjs';
import { StallWatch } from '../scripts/lib/stall-watch.mjs';
import { sampleMeters, startMeters, stopMeters } from './lib/meters.mjs';
import { checkOutcome, jobTimes, printTable, runRecord, summarize } from './lib/run-record.mjs';
import { DEFAULT_SCENARIOS, floorMs, SCENARIOS, scenarioUrls } from './lib/scenarios.mjs';

/** Benchmarks with a script of their own (`npm run bench -- compare`). */
const OWN_SCRIPTS = ['compare', 'render'];
const POLL_MS = 100;
const RESULTS_DIR = join(ROOT, 'bench', 'results');

/**
 * @typedef {import('../scripts/lib/harness.mjs').JobView} JobView
 * @typedef {import('../scripts/lib/harness.mjs').OriginStats} OriginStats
 * @typedef {import('./lib/scenarios.mjs').Scenario} Scenario
 * @typedef {import('./lib/meters.mjs').Meters} Meters
 * @typedef {import('./lib/meters.mjs').Usage} Usage
 * @typedef {import('./lib/meters.mjs').Warn} Warn
 * @typedef {import('./lib/run-record.mjs').Run} Run
 * @typedef {import('./lib/run-record.mjs').Polled} Polled
 * @typedef {import('./lib/run-record.mjs').JobTimes} JobTimes
 * @typedef {import('./lib/run-record.mjs').RunResult} RunResult
 * @typedef {import('../scripts/lib/harness.mjs').Server} Server
 */

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
