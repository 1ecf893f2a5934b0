// Shared plumbing of the benchmark (bench/run.mjs) and the crash drill (scripts/chaos.mjs):
// a local origin in its own process, the API server (`scripts/start.mjs`, i.e. wrangler dev)
// in its own process group, and small figures helpers. Everything is bounded in time. Its
// importers also get the /proc readings (proc.mjs) and the API client (api-client.mjs) here.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { descendants, isAlive, readStat } from './proc.mjs';

export * from './api-client.mjs';
export * from './proc.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ORIGIN_HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

/**
 * @typedef {{ requests: number, inFlight: number, maxInFlight: number, aborted: number,
 *   firstAt: number, lastEndAt: number, avgInFlight: number,
 *   byHost: Record<string, { requests: number, maxInFlight: number }> }} OriginStats
 * @typedef {Awaited<ReturnType<typeof startOrigin>>} Origin  A started local origin.
 * @typedef {Awaited<ReturnType<typeof startServer>>} Server  A started API server.
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
