// /proc readings of processes on Linux: the process table, a process's state, CPU ticks and
// memory, its descendants, and a meter of CPU and peak memory over a changing set of processes.
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel. */
export const CLK_TCK = 100;

/**
 * Process table rows from /proc: pid, parent, process group, name, state.
 * @returns {Map<number, { pid: number, ppid: number, pgrp: number, comm: string, state: string }>}
 */
export function processTable() {
  /** @type {Map<number, { pid: number, ppid: number, pgrp: number, comm: string, state: string }>} */
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) table.set(st.pid, st);
  }
  return table;
}

/**
 * Parses /proc/PID/stat (the command name may contain spaces and parentheses).
 * @param {number} pid
 */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const comm = text.slice(open + 1, close);
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state); utime/stime are fields 14/15 -> f[11], f[12].
  return {
    pid,
    comm,
    state: f[0] ?? '?',
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    ticks: Number(f[11]) + Number(f[12]),
  };
}

/** @param {number} pid  All live descendants of pid (not pid itself). */
export function descendants(pid) {
  const table = processTable();
  /** @type {number[]} */
  const out = [];
  const queue = [pid];
  for (let guard = 0; queue.length > 0 && guard < 10_000; guard++) {
    const parent = queue.shift();
    for (const row of table.values()) {
      if (row.ppid === parent && row.state !== 'Z') {
        out.push(row.pid);
        queue.push(row.pid);
      }
    }
  }
  return out;
}

/** @param {number} pid  VmRSS and VmHWM in kB (0 when the process is gone). */
export function readMem(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (/** @type {string} */ key) =>
      Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return { rssKb: 0, hwmKb: 0 };
  }
}

/** @param {number} pid */
export function isAlive(pid) {
  const st = readStat(pid);
  return st !== null && st.state !== 'Z';
}

/**
 * CPU ticks (utime + stime) summed over pids; processes that are gone count 0.
 * @param {number[]} pids
 */
export function cpuTicks(pids) {
  let sum = 0;
  for (const p of pids) sum += readStat(p)?.ticks ?? 0;
  return sum;
}

/**
 * CPU and memory of a changing set of processes (wrangler may replace workerd on a reload):
 * pids present at the first sample count from that sample on, pids that appear later count
 * from their start; a pid that disappears keeps the last reading taken while it was alive.
 * @param {() => number[]} listPids
 */
export function procMeter(listPids) {
  /** @type {Map<number, number>} */
  const base = new Map();
  /** @type {Map<number, number>} */
  const last = new Map();
  let first = true;
  let peakRssKb = 0;
  let peakHwmKb = 0;
  let nowRssKb = 0;
  const meter = {
    sample() {
      nowRssKb = 0;
      for (const p of listPids()) {
        const st = readStat(p);
        if (!st) continue;
        if (!base.has(p)) base.set(p, first ? st.ticks : 0);
        last.set(p, st.ticks);
        const m = readMem(p);
        peakRssKb = Math.max(peakRssKb, m.rssKb);
        nowRssKb = Math.max(nowRssKb, m.rssKb);
        peakHwmKb = Math.max(peakHwmKb, m.hwmKb);
      }
      first = false;
    },
    cpuS() {
      let ticks = 0;
      for (const [p, t] of last) ticks += t - (base.get(p) ?? 0);
      return ticks / CLK_TCK;
    },
    /** Highest single-process VmHWM/VmRSS seen (MB). */
    peakMB: () => Math.max(peakRssKb, peakHwmKb) / 1024,
    /** The largest single-process VmRSS at the last sample (MB). */
    rssMB: () => nowRssKb / 1024,
    pids: () => [...last.keys()],
  };
  return meter;
}
