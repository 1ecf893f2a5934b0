// Shared plumbing of the benchmark (bench/run.mjs) and the crash drill (scripts/chaos.mjs):
// a local origin in its own process, the API server (`scripts/start.mjs`, i.e. wrangler dev)
// in its own process group, /proc-based CPU and memory readings of its workerd processes, and
// small API helpers. Everything is bounded in time.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOKEN = 'dev-token';
export const ORIGIN_HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
export const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);
/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream kernel. */
export const CLK_TCK = 100;

/**
 * @typedef {{ total: number, queued: number, inFlight: number, retrying: number,
 *   succeeded: number, failed: number, cancelled: number }} Counts
 * @typedef {{ id: string, status: string, createdAt?: string, startedAt?: string | null,
 *   finishedAt?: string | null, counts: Counts, stats?: Record<string, unknown> }} JobView
 * @typedef {{ requests: number, inFlight: number, maxInFlight: number, aborted: number,
 *   firstAt: number, lastEndAt: number, avgInFlight: number,
 *   byHost: Record<string, { requests: number, maxInFlight: number }> }} OriginStats
 * @typedef {{ url: string, ok: boolean, attempts: number, status?: number | null,
 *   error: null | { kind: string, message: string } }} Result
 */

export const sleep = delay;

/** Process groups of servers we started and have not killed yet (killed if we are interrupted). */
const liveGroups = new Set();
let handlersInstalled = false;
function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const cleanup = () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    liveGroups.clear();
  };
  process.on('exit', cleanup);
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
}

/** A timestamp for result file names: 2026-11-28T19-07-53Z. */
export function resultsStamp(date = new Date()) {
  return date
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
}

/** The machine a benchmark ran on, as stored with its results. */
export function machineInfo() {
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    totalMemMB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
  };
}

/** @param {number} ms */
export function fmtS(ms) {
  return (ms / 1000).toFixed(2);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return /** @type {Promise<number>} */ (
    new Promise((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(port));
      });
    })
  );
}

/** A fresh, empty directory for the server's Durable Object state. */
export function freshStateDir(prefix = 'scrape-fanout-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts test/origin/server.ts in a child process (its own event loop, so the origin's work
 * never delays our status polls). Needs Node >= 23.6 (type stripping): run through npm.
 * @param {{ latencyMs: number, logPath?: string }} opts
 */
export async function startOrigin(opts) {
  const out = opts.logPath ? openSync(opts.logPath, 'a') : 'ignore';
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(ROOT, 'test', 'origin', 'server.ts'),
      '--port',
      '0',
      '--latency',
      String(opts.latencyMs),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', out] },
  );
  const stdout = child.stdout;
  if (!stdout) throw new Error('origin: no stdout');
  const port = await /** @type {Promise<number>} */ (
    new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error('origin did not start within 15 s')), 15_000);
      stdout.on('data', (/** @type {Buffer} */ chunk) => {
        buf += chunk.toString();
        const m = /listening on http:\/\/[\d.]+:(\d+)/.exec(buf);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`origin exited early with code ${code}`));
      });
    })
  );
  stdout.resume();
  return {
    port,
    /** @param {string} [host] */
    baseUrl: (host = '127.0.0.1') => `http://${host}:${port}`,
    /** @param {string} tag */
    async stats(tag) {
      const res = await fetch(`http://127.0.0.1:${port}/__stats?tag=${encodeURIComponent(tag)}`, {
        signal: AbortSignal.timeout(5_000),
      });
      return /** @type {Promise<OriginStats>} */ (res.json());
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), delay(3_000, false)]);
      if (!done) child.kill('SIGKILL');
    },
  };
}

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
 * @typedef {{ port: number, persistDir: string, logPath: string, readyTimeoutMs?: number,
 *   extraArgs?: string[] }} ServerOptions
 * @typedef {{ pid: number, base: string, seen: number[], treePids: () => number[] }} Tree
 *   What killing a server's process tree needs.
 */

/**
 * Starts `node scripts/start.mjs --persist-to DIR` (wrangler dev -> workerd) detached, in its
 * own process group, its output appended to logPath, and waits until `GET /` answers.
 * @param {ServerOptions} opts
 */
export async function startServer(opts) {
  const logOffset = existsSync(opts.logPath) ? statSync(opts.logPath).size : 0;
  const fd = openSync(opts.logPath, 'a');
  const started = performance.now();
  const { pid, exitInfo } = spawnServer(opts, fd);
  const server = serverHandle(pid, opts, logOffset, exitInfo);
  await waitUntilReady(server, started, opts.readyTimeoutMs ?? 90_000);
  server.readyMs = performance.now() - started;
  server.treePids();
  return server;
}

/**
 * Spawns the start script in its own process group (killed if we are interrupted), its
 * output to fd. `exitInfo` says how it exited, null while it runs.
 * @param {ServerOptions} opts @param {number} fd
 */
function spawnServer(opts, fd) {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'scripts', 'start.mjs'),
      '--persist-to',
      opts.persistDir,
      ...(opts.extraArgs ?? []),
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, PORT: String(opts.port), FORCE_COLOR: '0', CI: '1' },
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the server');
  installExitHandlers();
  liveGroups.add(pid);
  /** @type {string | null} */
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = `code=${code} signal=${signal}`;
  });
  return { pid, exitInfo: () => exited };
}

/**
 * The handle of a spawned server: its process tree, its log, and kill().
 * @param {number} pid @param {ServerOptions} opts @param {number} logOffset
 * @param {() => string | null} exitInfo
 */
function serverHandle(pid, opts, logOffset, exitInfo) {
  const base = `http://127.0.0.1:${opts.port}`;
  const server = {
    pid,
    base,
    port: opts.port,
    logPath: opts.logPath,
    readyMs: 0,
    /** @type {number[]} every pid ever seen in the tree, for the kill check */
    seen: /** @type {number[]} */ ([]),
    exitInfo,
    /** This server's output so far (from its own start in the shared log file). */
    logText: () => {
      try {
        return readFileSync(opts.logPath).subarray(logOffset).toString('utf8');
      } catch {
        return '';
      }
    },
    /** How often wrangler reloaded the worker (a source file changed under `wrangler dev`). */
    reloads: () => (server.logText().match(/Reloading local server/g) ?? []).length,
    /** The workerd processes under this server (the runtime that does the work). */
    workerdPids() {
      const pids = descendants(pid);
      for (const p of pids) if (!server.seen.includes(p)) server.seen.push(p);
      return pids.filter((p) => readStat(p)?.comm === 'workerd');
    },
    /** Every live process of the tree: the start script, wrangler, workerd. */
    treePids() {
      const pids = [pid, ...descendants(pid)].filter(isAlive);
      for (const p of pids) if (!server.seen.includes(p)) server.seen.push(p);
      return pids;
    },
    /**
     * SIGKILLs the whole process group, plus any tree member that left the group, and waits
     * (bounded) until none of them is alive and the port refuses connections.
     * @returns {Promise<{ dead: boolean, survivors: number[], ms: number }>}
     */
    kill: () => killTree(server),
  };
  return server;
}

/**
 * See the server handle's kill().
 * @param {Tree} tree
 * @returns {Promise<{ dead: boolean, survivors: number[], ms: number }>}
 */
async function killTree(tree) {
  const t0 = performance.now();
  const { pid } = tree;
  const members = tree.treePids();
  liveGroups.delete(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* the group is already gone */
  }
  for (const p of members) {
    try {
      if (isAlive(p)) process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (let i = 0; i < 100; i++) {
    const alive = tree.seen.filter(isAlive);
    if (alive.length === 0 && !(await answers(tree.base, 300))) {
      return { dead: true, survivors: [], ms: performance.now() - t0 };
    }
    await delay(100);
  }
  return { dead: false, survivors: tree.seen.filter(isAlive), ms: performance.now() - t0 };
}

/**
 * Waits until the server answers `GET /`; throws when it exits first, or (after killing it)
 * when it is not ready within limitMs of `started`.
 * @param {ReturnType<typeof serverHandle>} server @param {number} started @param {number} limit
 */
async function waitUntilReady(server, started, limit) {
  for (;;) {
    const exited = server.exitInfo();
    if (exited)
      throw new Error(`server exited before it was ready (${exited}); see ${server.logPath}`);
    if (await answers(server.base, 1_000)) break;
    if (performance.now() - started > limit) {
      await server.kill();
      throw new Error(`server not ready within ${limit} ms; see ${server.logPath}`);
    }
    await delay(200);
  }
}

/**
 * @param {string} base
 * @param {number} timeoutMs
 */
async function answers(base, timeoutMs) {
  try {
    const res = await fetch(`${base}/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
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

/** @param {string} base @param {string} path @param {RequestInit & { timeoutMs?: number }} [init] */
export async function api(base, path, init = {}) {
  const { timeoutMs = 30_000, ...rest } = init;
  const res = await fetch(`${base}${path}`, {
    ...rest,
    headers: { authorization: `Bearer ${TOKEN}`, ...(rest.headers ?? {}) },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  /** @type {unknown} */
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/**
 * POST /v1/jobs; throws unless 202/200.
 * @param {string} base
 * @param {Record<string, unknown>} job
 * @param {number} [timeoutMs]
 */
export async function submitJob(base, job, timeoutMs = 60_000) {
  const res = await api(base, '/v1/jobs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job),
    timeoutMs,
  });
  if (res.status !== 202 && res.status !== 200) {
    throw new Error(`POST /v1/jobs -> ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  }
  return /** @type {{ id: string, status: string, accepted: number, duplicates: number }} */ (
    res.body
  );
}

/**
 * Runs one job of `n` distinct origin pages at concurrency `c` through the API and polls it
 * every `pollMs` until it ends. Returns the tag its URLs carry at the origin, the epoch ms
 * just before the POST, and the final view.
 * @param {string} base @param {{ baseUrl: (host?: string) => string }} origin
 * @param {string} prefix @param {number} n @param {number} c @param {number} pollMs
 */
export async function runPagesJob(base, origin, prefix, n, c, pollMs) {
  const tag = `${prefix}-${Date.now()}`;
  const urls = Array.from({ length: n }, (_, i) => `${origin.baseUrl()}/bench/${i}?tag=${tag}`);
  const t0 = Date.now();
  const accepted = await submitJob(base, { urls, concurrency: c, timeoutMs: 30_000 });
  const view = await pollUntilEnd(base, accepted.id, pollMs);
  return { tag, t0, view };
}

/**
 * Polls a job every `pollMs` until it ends, calling `onPoll` after each read (meters sample
 * there); returns its final view.
 * @param {string} base @param {string} id @param {number} pollMs @param {() => void} [onPoll]
 */
export async function pollUntilEnd(base, id, pollMs, onPoll = () => {}) {
  let view = await getJob(base, id);
  for (let i = 0; i < 100_000 && !TERMINAL.has(view.status); i++) {
    await delay(pollMs);
    view = await getJob(base, id);
    onPoll();
  }
  return view;
}

/** @param {string} base @param {string} id @param {number} [timeoutMs] */
export async function getJob(base, id, timeoutMs = 10_000) {
  const res = await api(base, `/v1/jobs/${id}`, { timeoutMs });
  if (res.status !== 200)
    throw new Error(
      `GET /v1/jobs/${id} -> ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
    );
  return /** @type {JobView} */ (res.body);
}

/**
 * Pages through all results (JSON pages of `limit`), bounded by maxPages.
 * @param {string} base @param {string} id
 */
export async function allResults(base, id, limit = 1000, maxPages = 1_000) {
  /** @type {Result[]} */
  const items = [];
  /** @type {string | null} */
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const q = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res = await api(base, `/v1/jobs/${id}/results?limit=${limit}${q}`);
    if (res.status !== 200)
      throw new Error(
        `results page ${page} -> ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
      );
    const body = /** @type {{ items: Result[], nextCursor: string | null }} */ (res.body);
    items.push(...body.items);
    if (!body.nextCursor || body.items.length === 0)
      return { items, pages: page + 1, complete: true };
    cursor = body.nextCursor;
  }
  return { items, pages: maxPages, complete: false };
}

/** @param {number[]} xs @param {number} p  nearest-rank percentile (0..100) */
export function percentile(xs, p) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return /** @type {number} */ (s[rank - 1]);
}

/** @param {number[]} xs */
export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2
    ? /** @type {number} */ (s[mid])
    : /** @type {number} */ (s[mid - 1] + /** @type {number} */ (s[mid])) / 2;
}

/** @param {string} path */
export function exists(path) {
  return existsSync(path);
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
