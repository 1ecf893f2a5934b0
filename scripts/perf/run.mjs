#!/usr/bin/env node
// Driver of the perf worker: node scripts/perf/run.mjs WORKER_PORT ORIGIN_URL N K ROUNDS V1 V2...
// Prints CPU ms per page of the workerd runtime process (utime+stime from /proc) per variant.
import { readdirSync, readFileSync } from 'node:fs';

const [port, origin, n, k, rounds, ...variants] = process.argv.slice(2);
// The runtime workerd (the one started with --inspector-addr, not wrangler's proxy) whose
// parent is the wrangler serving `port` (it is restarted on every reload).
/** @param {string} pid */
const cmdline = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
};
/** @param {string} pid */
const ppid = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1];
const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
const runtimePid =
  process.env.RUNTIME_PID ??
  pids.find((p) => {
    const args = cmdline(p);
    if (!args[0]?.endsWith('workerd') || !args.some((a) => a.startsWith('--inspector-addr')))
      return false;
    const parent = cmdline(ppid(p));
    return parent.includes('dev') && parent.includes(port);
  });
console.error(`runtime pid ${runtimePid}`);
const ticks = () => {
  const f = readFileSync(`/proc/${runtimePid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
for (const v of variants) {
  const per = [];
  const wall = [];
  for (let r = 0; r < Number(rounds); r++) {
    const t0 = ticks();
    const res = await fetch(
      `http://127.0.0.1:${port}/?v=${v}&n=${n}&k=${k}&url=${encodeURIComponent(origin)}`,
    );
    const body = /** @type {{ wallMs: number, errors: number, firstError: string }} */ (
      await res.json()
    );
    const t1 = ticks();
    if (body.errors) console.error(v, body.errors, body.firstError);
    per.push(((t1 - t0) * 10) / Number(n));
    wall.push(body.wallMs);
  }
  per.sort((a, b) => a - b);
  console.log(
    `${v.padEnd(8)} cpu ms/page: ${per.map((x) => x.toFixed(3)).join(' ')}  (median ${per[Math.floor(per.length / 2)].toFixed(3)})  wall ms: ${wall.join(' ')}`,
  );
}
