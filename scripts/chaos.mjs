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
import {
  allResults,
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

async function main() {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '1' },
      urls: { type: 'string', default: '500' },
      latency: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '20' },
    },
  });
  const kills = Math.max(1, Math.min(10, Math.floor(Number(values.kills)) || 1));
  const n = Math.max(10, Math.min(100_000, Math.floor(Number(values.urls)) || 500));
  const latencyMs = Math.max(0, Math.floor(Number(values.latency)) || 100);
  const concurrency = Math.max(1, Math.min(1000, Math.floor(Number(values.concurrency)) || 20));

  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = resultsStamp();
  const logPath = join(resultsDir, `chaos-${stamp}.log`);
  const tag = `chaos-${stamp}`;
  const persistDir = freshStateDir('chaos-');
  const port = await freePort();
  // Kill i (0-based) fires once this fraction of the URLs has settled: 0.3 for a single kill;
  // spread over 0.3 .. 0.8 for several.
  const targets = Array.from({ length: kills }, (_, i) =>
    kills === 1 ? 0.3 : 0.3 + (0.5 * i) / (kills - 1),
  );

  console.log(
    `chaos: ${n} URLs, origin latency ${latencyMs} ms, concurrency ${concurrency}, ${kills} kill(s) at ` +
      `${targets.map((t) => `${Math.round(t * 100)}%`).join(', ')} settled`,
  );
  console.log(`  state dir ${persistDir}, port ${port}, server log ${logPath}`);

  const origin = await startOrigin({ latencyMs });
  /** @type {Awaited<ReturnType<typeof startServer>> | null} */
  let server = null;
  /** @type {string[]} */
  const problems = [];
  try {
    server = await startServer({ port, persistDir, logPath });
    console.log(`  server ready in ${fmtS(server.readyMs)} s (pid group ${server.pid})`);
    const urls = Array.from({ length: n }, (_, i) => `${origin.baseUrl()}/bench/${i}?tag=${tag}`);
    const t0 = performance.now();
    const job = await submitJob(server.base, {
      urls,
      concurrency,
      perHostConcurrency: concurrency,
      timeoutMs: 10_000,
      retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 },
    });
    console.log(`  job ${job.id}: accepted ${job.accepted}`);
    if (job.accepted !== n) problems.push(`accepted ${job.accepted} != ${n}`);

    /** @type {{ at: number, countsBefore: import('./lib/harness.mjs').Counts | undefined,
     *   statusBefore: string | undefined, dead: boolean, killMs: number, restartMs: number,
     *   tree: string }[]} */
    const killLog = [];
    /** @type {import('./lib/harness.mjs').JobView | null} */
    let view = null;
    let stop = false;
    for (let k = 0; k < kills && !stop; k++) {
      const target = /** @type {number} */ (targets[k]);
      // Wait (bounded) until enough of the job has settled.
      const waitStart = performance.now();
      for (;;) {
        try {
          view = await getJob(server.base, job.id, 5_000);
        } catch (err) {
          console.log(`  status read failed: ${/** @type {Error} */ (err).message}`);
        }
        if (view && TERMINAL.has(view.status)) {
          console.log(
            `  job became ${view.status} before kill ${k + 1} (${fmtCounts(view.counts)}): no more kills`,
          );
          stop = true;
          break;
        }
        if (view && settled(view.counts) >= target * n) break;
        if (performance.now() - waitStart > PRE_KILL_LIMIT_MS) {
          problems.push(
            `job made no progress to ${Math.round(target * 100)}% within ${PRE_KILL_LIMIT_MS / 1000} s`,
          );
          console.log(
            `  no progress to ${Math.round(target * 100)}% within ${PRE_KILL_LIMIT_MS / 1000} s: ${fmtCounts(view?.counts)}`,
          );
          stop = true;
          break;
        }
        await sleep(25);
      }
      if (stop) break;

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
        problems.push(`kill ${k + 1}: processes survived: ${killed.survivors.join(',')}`);
        stop = true;
        break;
      }
      const tRestart = performance.now();
      server = await startServer({ port, persistDir, logPath });
      const restartMs = performance.now() - tRestart;
      console.log(
        `    restarted on the same state dir and port: ready in ${fmtS(restartMs)} s (pid group ${server.pid})`,
      );
      killLog.push({
        at: tKill - t0,
        countsBefore: view?.counts,
        statusBefore: view?.status,
        dead: killed.dead,
        killMs: killed.ms,
        restartMs,
        tree,
      });
    }

    // Wait for the end, bounded, and report progress after the (last) restart.
    const tWait = performance.now();
    let lastPrint = tWait;
    /** @type {number | null} */
    let firstProgressMs = null;
    /** @type {number | null} settled count at the first status read after the last restart */
    let settledAtRestart = null;
    for (;;) {
      try {
        view = await getJob(server.base, job.id, 5_000);
      } catch (err) {
        console.log(`  status read failed: ${/** @type {Error} */ (err).message}`);
      }
      if (view && settledAtRestart === null) settledAtRestart = settled(view.counts);
      if (view && firstProgressMs === null && settled(view.counts) > (settledAtRestart ?? 0)) {
        firstProgressMs = performance.now() - tWait;
      }
      if (view && TERMINAL.has(view.status)) break;
      if (performance.now() - tWait > RECOVER_LIMIT_MS) {
        problems.push(
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
    const recoverMs = performance.now() - tWait;
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
    const reloads = server.reloads();
    if (reloads > 0)
      console.log(
        `  note: wrangler reloaded the worker ${reloads}x after the last restart (source edits)`,
      );
    if (view?.status !== 'completed') problems.push(`status ${view?.status}, expected completed`);

    // Read every result and check it against what we submitted.
    const { items, pages, complete } = await allResults(server.base, job.id, 1000);
    if (!complete) problems.push('results paging did not end within its page limit');
    const submitted = new Set(urls);
    /** @type {Map<string, number>} */
    const seen = new Map();
    /** @type {Map<number, number>} */
    const attempts = new Map();
    /** @type {Map<string, number>} */
    const errors = new Map();
    let unknown = 0;
    let notOk = 0;
    for (const r of items) {
      seen.set(r.url, (seen.get(r.url) ?? 0) + 1);
      if (!submitted.has(r.url)) unknown++;
      attempts.set(r.attempts, (attempts.get(r.attempts) ?? 0) + 1);
      if (!r.ok) {
        notOk++;
        const kind = r.error?.kind ?? `status ${r.status}`;
        errors.set(kind, (errors.get(kind) ?? 0) + 1);
      }
    }
    const lost = urls.filter((u) => !seen.has(u));
    const doubled = [...seen].filter(([, c]) => c > 1);
    const stats = await origin.stats(tag).catch(() => null);
    console.log(
      `  results: ${items.length} in ${pages} page(s); distinct URLs ${seen.size}; lost ${lost.length}; ` +
        `doubled ${doubled.length}; not submitted ${unknown}; not ok ${notOk}` +
        (errors.size ? ` (${[...errors].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''),
    );
    console.log(
      `  attempts histogram: ${[...attempts]
        .sort((a, b) => a[0] - b[0])
        .map(([a, c]) => `${a}x: ${c}`)
        .join(', ')}`,
    );
    if (stats) {
      console.log(
        `  origin: ${stats.requests} requests for ${n} URLs (${stats.requests - n} re-fetched), ` +
          `max in flight ${stats.maxInFlight}, aborted ${stats.aborted}`,
      );
    }
    if (lost.length) {
      problems.push(`${lost.length} URL(s) lost, e.g. ${lost.slice(0, 3).join(' ')}`);
    }
    if (doubled.length) {
      problems.push(
        `${doubled.length} URL(s) doubled, e.g. ${doubled
          .slice(0, 3)
          .map(([u, c]) => `${u} x${c}`)
          .join(' ')}`,
      );
    }
    // attempts counts fetches that ran, so it can never exceed what the origin saw.
    const attemptSum = items.reduce((sum, r) => sum + r.attempts, 0);
    if (stats && attemptSum > stats.requests) {
      problems.push(
        `attempts add up to ${attemptSum}, more than the ${stats.requests} requests the origin saw`,
      );
    }
    if (items.length !== n) problems.push(`${items.length} results, expected exactly ${n}`);
    if (unknown) problems.push(`${unknown} result(s) for URLs never submitted`);
    if (notOk) problems.push(`${notOk} result(s) not ok although the origin is healthy`);
    if (killLog.length < kills)
      problems.push(`only ${killLog.length} of ${kills} kill(s) happened`);
    for (const [i, k] of killLog.entries()) {
      const pct = k.countsBefore ? (100 * settled(k.countsBefore)) / n : Number.NaN;
      console.log(
        `  kill ${i + 1}: at ${fmtS(k.at)} s with ${pct.toFixed(0)}% settled; dead after ${k.killMs.toFixed(0)} ms; ` +
          `restart ready in ${fmtS(k.restartMs)} s`,
      );
    }
  } catch (err) {
    problems.push(`drill aborted: ${/** @type {Error} */ (err).stack ?? err}`);
  } finally {
    if (server) await server.kill();
    await origin.close();
  }
  if (problems.length) {
    console.log(`\nCHAOS FAILED (${problems.length} problem(s)); server log: ${logPath}`);
    for (const p of problems) console.log(`  - ${p}`);
    return 1;
  }
  console.log(`\nCHAOS PASSED: nothing lost, nothing doubled; server log: ${logPath}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
