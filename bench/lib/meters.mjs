// CPU and memory of a benchmark run's server: its workerd processes and its whole process
// tree, sampled while the job runs (bench/README.md, "CPU s" and "peak RSS MB").
import os from 'node:os';
import { procMeter } from '../../scripts/lib/harness.mjs';

/**
 * @typedef {import('../../scripts/lib/harness.mjs').Server} Server
 * @typedef {(msg: string) => void} Warn
 * @typedef {ReturnType<typeof startMeters>} Meters
 * @typedef {ReturnType<typeof stopMeters>} Usage
 */

/**
 * CPU and memory meters of the server's workerd processes and of its whole tree, first
 * samples taken; the RSS series starts empty.
 * @param {Server} server @param {Warn} warn
 */
export function startMeters(server, warn) {
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
export function sampleMeters(m, t0) {
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
 * Last samples once the job ended; warns about workerd restarts and wrangler reloads.
 * @param {Meters} m @param {Server} server @param {Warn} warn
 */
export function stopMeters(m, server, warn) {
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
