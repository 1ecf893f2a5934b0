#!/usr/bin/env node
// Comparison baselines against the same local origin the service is benchmarked with: the
// seed's aiohttp scraper (bench/baselines/aiohttp_scraper.py; `aiohttp-raw`: the same without
// parsing, aiohttp's own cost) and plain Node fetch
// (bench/baselines/node-fetch.mjs), each in a fresh process per run, runs alternating.
//
//   npm run bench:baseline                               # 2,000 URLs, C=100, 100 ms, 3 runs
//   npm run bench:baseline -- 10000 200 50 --runs 5 --only aiohttp
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo, median, ROOT, resultsStamp, startOrigin } from '../scripts/lib/harness.mjs';
import { JOB_COLUMNS, tableLines } from '../scripts/lib/table.mjs';

/**
 * @typedef {{ name: string, command: string, args: string[], versions: Record<string, string> }} Baseline
 * @typedef {{ n: number, ok: number, failed: number, links: number, wallMs: number, cpuS: number }} Output
 * @typedef {{ baseline: string, run: number, tag: string, out: Output | null, requests: number,
 *   maxInFlight: number, load: [number, number], problems: string[] }} Run
 */

const PYTHONS = ['/usr/bin/python3', 'python3'];
const INSTALL = 'apt-get install python3-aiohttp python3-bs4';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '3' },
    only: { type: 'string', default: 'aiohttp,aiohttp-raw,node' },
  },
});
const [n = 2000, c = 100, latencyMs = 100] = positionals.map(Number);
const runs = Math.max(1, Math.min(20, Number(values.runs) || 3));
const only = values.only.split(',').map((s) => s.trim());
const KNOWN = ['aiohttp', 'aiohttp-raw', 'node'];
const unknown = only.filter((name) => !KNOWN.includes(name));
if (unknown.length > 0) {
  console.error(`--only: unknown baseline(s) ${unknown.join(', ')} (known: ${KNOWN.join(', ')})`);
  process.exit(2);
}
const floorMs = Math.ceil(n / c) * latencyMs;
// A run that takes longer than this is stuck, not slow.
const limitMs = 10 * floorMs + 60_000;
const stamp = resultsStamp();

/** The first python3 with aiohttp and bs4, and their versions; null when there is none. */
function findPython() {
  const probe =
    'import sys, aiohttp, bs4; print(sys.version.split()[0], aiohttp.__version__, bs4.__version__)';
  for (const python of PYTHONS) {
    try {
      const out = execFileSync(python, ['-c', probe], { encoding: 'utf8', stdio: 'pipe' });
      const [py = '', aiohttp = '', bs4 = ''] = out.trim().split(' ');
      return { python, versions: { python: py, aiohttp, bs4 } };
    } catch {
      /* next candidate */
    }
  }
  return null;
}

/** The baselines asked for that can run here; says why one cannot. */
function baselines() {
  /** @type {Baseline[]} */
  const list = [];
  if (only.includes('aiohttp') || only.includes('aiohttp-raw')) {
    const found = findPython();
    if (found) {
      const script = join(ROOT, 'bench', 'baselines', 'aiohttp_scraper.py');
      if (only.includes('aiohttp')) {
        list.push({ name: 'aiohttp', command: found.python, args: [script], ...found });
      }
      if (only.includes('aiohttp-raw')) {
        const args = [script, '--no-parse'];
        list.push({ name: 'aiohttp-raw', command: found.python, args, ...found });
      }
    } else {
      console.log(
        `aiohttp: skipped, no python3 with aiohttp and bs4 (${PYTHONS.join(', ')}): ${INSTALL}`,
      );
    }
  }
  if (only.includes('node')) {
    const script = join(ROOT, 'bench', 'baselines', 'node-fetch.mjs');
    list.push({
      name: 'node',
      command: process.execPath,
      args: [script],
      versions: { node: process.version },
    });
  }
  return list;
}

/**
 * Runs one baseline process to its end (SIGKILLed after limitMs).
 * @param {Baseline} b @param {string} urlsFile
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function runProcess(b, urlsFile) {
  return new Promise((resolve, reject) => {
    const [script = '', ...flags] = b.args;
    const child = spawn(b.command, [script, urlsFile, String(c), ...flags], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (/** @type {Buffer} */ d) => (stdout += d.toString()));
    child.stderr.on('data', (/** @type {Buffer} */ d) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * One measured run of one baseline over N fresh URLs, and what is wrong with it.
 * @param {Baseline} b @param {number} run @param {string} dir
 * @param {import('../scripts/lib/harness.mjs').Origin} origin
 * @returns {Promise<Run>}
 */
async function measure(b, run, dir, origin) {
  const tag = `${b.name}-${stamp}-r${run}`;
  const urlsFile = join(dir, `${tag}.txt`);
  const lines = Array.from({ length: n }, (_, i) => `${origin.baseUrl()}/bench/${i}?tag=${tag}\n`);
  writeFileSync(urlsFile, lines.join(''));
  const loadBefore = loadavg()[0] ?? 0;
  const proc = await runProcess(b, urlsFile);
  const loadAfter = loadavg()[0] ?? 0;
  const stats = await origin.stats(tag);
  /** @type {Output | null} */
  let out = null;
  try {
    out = JSON.parse(proc.stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    /* reported below */
  }
  const problems = [];
  if (proc.code !== 0) problems.push(`exit code ${proc.code}: ${proc.stderr.trim().slice(-300)}`);
  if (!out) problems.push(`no JSON line on stdout: ${proc.stdout.slice(0, 200)}`);
  else if (out.n !== n || out.ok !== n || out.failed !== 0)
    problems.push(`n=${out.n} ok=${out.ok} failed=${out.failed}, expected ${n} ok`);
  if (stats.requests !== n) problems.push(`origin saw ${stats.requests} requests, expected ${n}`);
  if (stats.maxInFlight > c) problems.push(`origin maxInFlight ${stats.maxInFlight} > C=${c}`);
  const { requests, maxInFlight } = stats;
  return {
    baseline: b.name,
    run,
    tag,
    out,
    requests,
    maxInFlight,
    load: [loadBefore, loadAfter],
    problems,
  };
}

/** @param {Run} r */
function printRun(r) {
  const o = r.out;
  const figures = o
    ? `${(o.wallMs / 1000).toFixed(2)} s = ${(o.wallMs / floorMs).toFixed(3)}x floor, CPU ${o.cpuS.toFixed(2)} s, ` +
      `${(o.links / Math.max(1, o.ok)).toFixed(1)} links/page`
    : 'no result';
  console.log(
    `  ${r.baseline} run ${r.run}: ${figures} (origin requests ${r.requests}, maxInFlight ${r.maxInFlight}, ` +
      `load ${r.load[0].toFixed(2)} -> ${r.load[1].toFixed(2)})`,
  );
  for (const p of r.problems) console.log(`    FAILED: ${p}`);
}

/** Medians per baseline. @param {Baseline[]} list @param {Run[]} all */
function summarize(list, all) {
  return list.map((b) => {
    const mine = all.filter((r) => r.baseline === b.name);
    const wallMs = median(mine.map((r) => r.out?.wallMs ?? Number.NaN));
    return {
      baseline: b.name,
      versions: b.versions,
      n,
      concurrency: c,
      latencyMs,
      floorS: floorMs / 1000,
      wallS: wallMs / 1000,
      xFloor: wallMs / floorMs,
      cpuS: median(mine.map((r) => r.out?.cpuS ?? Number.NaN)),
      maxInFlight: Math.max(...mine.map((r) => r.maxInFlight)),
      runsOk: mine.filter((r) => r.problems.length === 0).length,
      runs: mine.length,
    };
  });
}

/** @param {ReturnType<typeof summarize>} summary */
function printTable(summary) {
  const head = ['baseline', ...JOB_COLUMNS, 'max infl', 'ok'];
  const rows = summary.map((s) => [
    s.baseline,
    String(s.n),
    String(s.concurrency),
    `${s.latencyMs} ms`,
    s.floorS.toFixed(2),
    s.wallS.toFixed(2),
    s.xFloor.toFixed(3),
    s.cpuS.toFixed(2),
    String(s.maxInFlight),
    `${s.runsOk}/${s.runs}`,
  ]);
  console.log(tableLines(head, rows).join('\n'));
}

const list = baselines();
if (list.length === 0) {
  console.log(`nothing to run (--only ${values.only})`);
  process.exit(1);
}
console.log(
  `baselines ${list.map((b) => b.name).join(', ')}: N=${n} C=${c} L=${latencyMs} ms ` +
    `(floor ${(floorMs / 1000).toFixed(2)} s), ${runs} run(s) each`,
);
const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
const origin = await startOrigin({ latencyMs });
/** @type {Run[]} */
const all = [];
try {
  for (let run = 1; run <= runs; run++) {
    for (const b of list) {
      const r = await measure(b, run, dir, origin);
      printRun(r);
      all.push(r);
    }
  }
} finally {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
}
const summary = summarize(list, all);
printTable(summary);
const outDir = join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `baseline-${stamp}.json`);
const options = { n, concurrency: c, latencyMs, runs, only };
writeFileSync(
  file,
  `${JSON.stringify({ machine: machineInfo(), stamp, options, summary, runs: all }, null, 2)}\n`,
);
console.log(`results: ${file}`);
if (all.some((r) => r.problems.length > 0)) process.exit(1);
