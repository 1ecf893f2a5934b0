#!/usr/bin/env node
// The crash drill (`npm run chaos`): submit a job, SIGKILL the whole server (wrangler and
// workerd) while the job is part-way through, restart it on the same state directory and port,
// and check that the job still completes with exactly one Result per URL: none lost, none
// doubled. Exit 0 only when every check passes.
//
//   npm run chaos                       # one kill at ~30-60% settled
//   npm run chaos -- --kills 3          # kill three times during the job
//   npm run chaos -- --urls 500 --latency 100 --concurrency 20
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkResults } from './lib/drill-results.mjs';
import {
  fmtS,
  freePort,
  freshStateDir,
  getJob,
  ROOT,
  resultsStamp,
  sleep,
  startOrigin,
  startServer,
  submitJob,
  TERMINAL,
} from './lib/harness.mjs';

const RECOVER_LIMIT_MS = 180_000;
const PRE_KILL_LIMIT_MS = 120_000;

/** @param {import('./lib/harness.mjs').Counts} c */
function settled(c) {
  return c.succeeded + c.failed + c.cancelled;
}

/** @param {import('./lib/harness.mjs').Counts | undefined} c */
function fmtCounts(c) {
  if (!c) return 'n/a';
  return (
    `settled ${settled(c)}/${c.total} (ok ${c.succeeded}, failed ${c.failed}, cancelled ${c.cancelled}), ` +
    `inFlight ${c.inFlight}, queued ${c.queued}, retrying ${c.retrying}`
  );
}

/**
 * @typedef {import('./lib/harness.mjs').Counts} Counts
 * @typedef {import('./lib/harness.mjs').JobView} JobView
 * @typedef {import('./lib/harness.mjs').Server} Server
 * @typedef {import('./lib/harness.mjs').Origin} Origin
 * @typedef {{ kills: number, n: number, latencyMs: number, concurrency: number }} Options
 * @typedef {Options & { logPath: string, tag: string, persistDir: string, port: number,
 *   targets: number[], problems: string[], server: Server | null }} Drill
 *   The drill's plan and state: `server` is the current one (replaced at every restart),
 *   `problems` what failed so far.
 * @typedef {{ at: number, countsBefore: Counts | undefined, statusBefore: string | undefined,
 *   dead: boolean, killMs: number, restartMs: number, tree: string }} KillEntry
 * @typedef {{ view: JobView | null, recoverMs: number, firstProgressMs: number | null }} End
 */

/** The command line, clamped. @returns {Options} */
function parseOptions() {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '1' },
      urls: { type: 'string', default: '500' },
      latency: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '20' },
    },
  });
  return {
    kills: Math.max(1, Math.min(10, Math.floor(Number(values.kills)) || 1)),
    n: Math.max(10, Math.min(100_000, Math.floor(Number(values.urls)) || 500)),
    latencyMs: Math.max(0, Math.floor(Number(values.latency)) || 100),
    concurrency: Math.max(1, Math.min(1000, Math.floor(Number(values.concurrency)) || 20)),
  };
}

/**
 * Kill i (0-based) fires once this fraction of the URLs has settled: 0.3 for a single kill;
 * spread over 0.3 .. 0.8 for several.
 * @param {number} kills
 */
function killTargets(kills) {
  return Array.from({ length: kills }, (_, i) =>
    kills === 1 ? 0.3 : 0.3 + (0.5 * i) / (kills - 1),
  );
}

/**
 * Names the drill's log, tag, state dir and port, and prints the plan.
 * @param {Options} opts
 * @returns {Promise<Drill>}
 */
async function planDrill(opts) {
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = resultsStamp();
  const logPath = join(resultsDir, `chaos-${stamp}.log`);
  const tag = `chaos-${stamp}`;
  const persistDir = freshStateDir('chaos-');
  const port = await freePort();
  const targets = killTargets(opts.kills);
  console.log(
    `chaos: ${opts.n} URLs, origin latency ${opts.latencyMs} ms, concurrency ${opts.concurrency}, ${opts.kills} kill(s) at ` +
      `${targets.map((t) => `${Math.round(t * 100)}%`).join(', ')} settled`,
  );
  console.log(`  state dir ${persistDir}, port ${port}, server log ${logPath}`);
  return { ...opts, logPath, tag, persistDir, port, targets, problems: [], server: null };
}

/** @param {Drill} drill  The current server (there is one once the drill has started it). */
function serverOf(drill) {
  return /** @type {Server} */ (drill.server);
}

/**
 * Polls (bounded) until the target fraction of the job has settled. `stop` when the job ended
 * first or made no progress (then no more kills).
 * @param {Drill} drill @param {string} jobId @param {number} k @param {JobView | null} view
 * @returns {Promise<{ view: JobView | null, stop: boolean }>}
 */
async function waitForSettled(drill, jobId, k, view) {
  const target = /** @type {number} */ (drill.targets[k]);
  const waitStart = performance.now();
  for (;;) {
    try {
      view = await getJob(serverOf(drill).base, jobId, 5_000);
    } catch (err) {
      console.log(`  status read failed: ${/** @type {Error} */ (err).message}`);
    }
    if (view && TERMINAL.has(view.status)) {
      console.log(
        `  job became ${view.status} before kill ${k + 1} (${fmtCounts(view.counts)}): no more kills`,
      );
      return { view, stop: true };
    }
    if (view && settled(view.counts) >= target * drill.n) return { view, stop: false };
    if (performance.now() - waitStart > PRE_KILL_LIMIT_MS) {
      drill.problems.push(
        `job made no progress to ${Math.round(target * 100)}% within ${PRE_KILL_LIMIT_MS / 1000} s`,
      );
      console.log(
        `  no progress to ${Math.round(target * 100)}% within ${PRE_KILL_LIMIT_MS / 1000} s: ${fmtCounts(view?.counts)}`,
      );
      return { view, stop: true };
    }
    await sleep(25);
  }
}

/**
 * SIGKILLs the server's whole tree and restarts it on the same state dir and port. Null (and a
 * problem) when processes survived the kill.
 * @param {Drill} drill @param {number} k @param {number} t0 @param {JobView | null} view
 * @returns {Promise<KillEntry | null>}
 */
async function killAndRestart(drill, k, t0, view) {
  const server = serverOf(drill);
  const tree = server.treePids().join(',');
  const workerd = server.workerdPids();
  const tKill = performance.now();
  const killed = await server.kill();
  console.log(
    `\n  KILL ${k + 1} at ${fmtS(tKill - t0)} s: ${view?.status}, ${fmtCounts(view?.counts)}`,
  );
  console.log(
    `    SIGKILL process group ${server.pid} (tree ${tree}; workerd ${workerd.join(',') || 'none'}): ` +
      (killed.dead
        ? `all dead, port closed after ${killed.ms.toFixed(0)} ms`
        : `SURVIVORS ${killed.survivors.join(',')}`),
  );
  if (!killed.dead) {
    drill.problems.push(`kill ${k + 1}: processes survived: ${killed.survivors.join(',')}`);
    return null;
  }
  const tRestart = performance.now();
  const { port, persistDir, logPath } = drill;
  drill.server = await startServer({ port, persistDir, logPath });
  const restartMs = performance.now() - tRestart;
  console.log(
    `    restarted on the same state dir and port: ready in ${fmtS(restartMs)} s (pid group ${drill.server.pid})`,
  );
  return {
    at: tKill - t0,
    countsBefore: view?.counts,
    statusBefore: view?.status,
    dead: killed.dead,
    killMs: killed.ms,
    restartMs,
    tree,
  };
}

/**
 * Every kill of the drill, each once its share of the job has settled.
 * @param {Drill} drill @param {string} jobId @param {number} t0
 */
async function runKills(drill, jobId, t0) {
  /** @type {KillEntry[]} */
  const killLog = [];
  /** @type {JobView | null} */
  let view = null;
  for (let k = 0; k < drill.kills; k++) {
    const reached = await waitForSettled(drill, jobId, k, view);
    view = reached.view;
    if (reached.stop) break;
    const entry = await killAndRestart(drill, k, t0, view);
    if (!entry) break;
    killLog.push(entry);
  }
  return { killLog, view };
}

/**
 * Waits for the end, bounded, and reports progress after the (last) restart.
 * @param {Drill} drill @param {string} jobId @param {JobView | null} view
 * @returns {Promise<End>}
 */
async function waitForEnd(drill, jobId, view) {
  const tWait = performance.now();
  let lastPrint = tWait;
  /** @type {number | null} */
  let firstProgressMs = null;
  /** @type {number | null} settled count at the first status read after the last restart */
  let settledAtRestart = null;
  for (;;) {
    try {
      view = await getJob(serverOf(drill).base, jobId, 5_000);
    } catch (err) {
      console.log(`  status read failed: ${/** @type {Error} */ (err).message}`);
    }
    if (view && settledAtRestart === null) settledAtRestart = settled(view.counts);
    if (view && firstProgressMs === null && settled(view.counts) > (settledAtRestart ?? 0)) {
      firstProgressMs = performance.now() - tWait;
    }
    if (view && TERMINAL.has(view.status)) break;
    if (performance.now() - tWait > RECOVER_LIMIT_MS) {
      drill.problems.push(
        `job not terminal ${RECOVER_LIMIT_MS / 1000} s after the restart: ${view?.status} ${fmtCounts(view?.counts)}`,
      );
      break;
    }
    if (performance.now() - lastPrint > 5_000) {
      lastPrint = performance.now();
      console.log(
        `    ... ${fmtS(performance.now() - tWait)} s after restart: ${view?.status}, ${fmtCounts(view?.counts)}`,
      );
    }
    await sleep(100);
  }
  return { view, recoverMs: performance.now() - tWait, firstProgressMs };
}

/**
 * How the job ended, how long after the submit and the last kill.
 * @param {Drill} drill @param {End} end @param {KillEntry[]} killLog @param {number} t0
 */
function reportEnd(drill, { view, recoverMs, firstProgressMs }, killLog, t0) {
  const lastKill = killLog.at(-1);
  const tEnd = performance.now() - t0;
  console.log(
    `\n  job ${view?.status} ${fmtS(tEnd)} s after submit; ${fmtS(recoverMs)} s after the last restart` +
      (lastKill ? ` (${fmtS(tEnd - lastKill.at)} s after the last kill)` : '') +
      (firstProgressMs !== null
        ? `; first progress ${fmtS(firstProgressMs)} s after the restart`
        : '; no progress seen after the restart'),
  );
  console.log(`  final counts: ${fmtCounts(view?.counts)}`);
  const reloads = serverOf(drill).reloads();
  if (reloads > 0)
    console.log(
      `  note: wrangler reloaded the worker ${reloads}x after the last restart (source edits)`,
    );
  if (view?.status !== 'completed')
    drill.problems.push(`status ${view?.status}, expected completed`);
}

/** @param {Drill} drill @param {KillEntry[]} killLog */
function reportKills(drill, killLog) {
  if (killLog.length < drill.kills)
    drill.problems.push(`only ${killLog.length} of ${drill.kills} kill(s) happened`);
  for (const [i, k] of killLog.entries()) {
    const pct = k.countsBefore ? (100 * settled(k.countsBefore)) / drill.n : Number.NaN;
    console.log(
      `  kill ${i + 1}: at ${fmtS(k.at)} s with ${pct.toFixed(0)}% settled; dead after ${k.killMs.toFixed(0)} ms; ` +
        `restart ready in ${fmtS(k.restartMs)} s`,
    );
  }
}

/**
 * The drill proper: server up, one job, the kills and restarts, the end, every check.
 * @param {Drill} drill @param {Origin} origin
 */
async function runDrill(drill, origin) {
  const { n, concurrency, port, persistDir, logPath } = drill;
  const server = await startServer({ port, persistDir, logPath });
  drill.server = server;
  console.log(`  server ready in ${fmtS(server.readyMs)} s (pid group ${server.pid})`);
  const urls = Array.from(
    { length: n },
    (_, i) => `${origin.baseUrl()}/bench/${i}?tag=${drill.tag}`,
  );
  const t0 = performance.now();
  const job = await submitJob(server.base, {
    urls,
    concurrency,
    perHostConcurrency: concurrency,
    timeoutMs: 10_000,
    retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 },
  });
  console.log(`  job ${job.id}: accepted ${job.accepted}`);
  if (job.accepted !== n) drill.problems.push(`accepted ${job.accepted} != ${n}`);

  const { killLog, view } = await runKills(drill, job.id, t0);
  const end = await waitForEnd(drill, job.id, view);
  reportEnd(drill, end, killLog, t0);
  await checkResults(drill, serverOf(drill).base, origin, job.id, urls);
  reportKills(drill, killLog);
}

/** Prints the verdict; the exit code. @param {Drill} drill */
function verdict({ problems, logPath }) {
  if (problems.length) {
    console.log(`\nCHAOS FAILED (${problems.length} problem(s)); server log: ${logPath}`);
    for (const p of problems) console.log(`  - ${p}`);
    return 1;
  }
  console.log(`\nCHAOS PASSED: nothing lost, nothing doubled; server log: ${logPath}`);
  return 0;
}

async function main() {
  const drill = await planDrill(parseOptions());
  const origin = await startOrigin({ latencyMs: drill.latencyMs });
  try {
    await runDrill(drill, origin);
  } catch (err) {
    drill.problems.push(`drill aborted: ${/** @type {Error} */ (err).stack ?? err}`);
  } finally {
    if (drill.server) await drill.server.kill();
    await origin.close();
  }
  return verdict(drill);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
