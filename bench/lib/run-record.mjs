// What a benchmark run found: the checks of its outcome, its times, the record stored in the
// results JSON, the medians over a scenario's runs and the table they are printed in.
import { median, percentile, TERMINAL } from '../../scripts/lib/harness.mjs';
import { JOB_COLUMNS, tableLines } from '../../scripts/lib/table.mjs';

/**
 * @typedef {import('./scenarios.mjs').Scenario} Scenario
 * @typedef {import('./meters.mjs').Meters} Meters
 * @typedef {import('./meters.mjs').Usage} Usage
 * @typedef {import('./meters.mjs').Warn} Warn
 * @typedef {import('../../scripts/lib/harness.mjs').JobView} JobView
 * @typedef {import('../../scripts/lib/harness.mjs').OriginStats} OriginStats
 * @typedef {import('../../scripts/lib/harness.mjs').Server} Server
 * @typedef {import('./scenarios.mjs').Origin} Origin
 * @typedef {{ s: Scenario, runNo: number, tag: string, logPath: string, floor: number,
 *   limitMs: number, warnings: string[], warn: Warn, origin: Origin, server: Server }} Run
 *   One run of a scenario: what it is, where it logs, what it found wrong so far.
 * @typedef {{ view: JobView | null, pollMs: number[], pollErrors: number, seenMs: number }} Polled
 *   The status reads of a run: the last view, each read's latency, failed reads, when the end
 *   was seen (ms after submit).
 * @typedef {ReturnType<typeof jobTimes>} JobTimes
 * @typedef {ReturnType<typeof runRecord>} RunResult
 */

/**
 * Warns about whatever the job and the origin say went wrong; the origin's max in flight per
 * host.
 * @param {Scenario} s @param {JobView | null} view @param {OriginStats | null} stats
 * @param {Warn} warn
 */
export function checkOutcome(s, view, stats, warn) {
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
export function jobTimes(view, t0Epoch) {
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
export function runRecord(run, m) {
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
 * The median of every numeric field over the runs of one scenario.
 * @param {RunResult[]} runs
 */
export function summarize(runs) {
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
export function printTable(rows) {
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
