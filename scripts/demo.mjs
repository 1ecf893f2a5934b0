#!/usr/bin/env node
// `npm run demo`: offline, one command. Starts the local test origin and runs 1,000 of its pages
// through `scrape-fanout run` (the worker in an embedded runtime, no server), with the faults of
// real sites: slow pages, flaky 503s, 429s with Retry-After, dead links, redirect chains and
// loops, huge pages, pages that never answer and refused connections. Prints the summary.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT, startOrigin } from './lib/harness.mjs';

const N = 1000;
const CONCURRENCY = 50;
/** Per attempt: the pages that never answer time out after this, twice. */
const TIMEOUT_MS = 3000;

/**
 * The demo's URLs: `count` of each kind, the rest ordinary pages of 50 to 400 ms (one in 25
 * takes 2.5 s). Throttling answers come from their own host, so the Retry-After they carry
 * holds back only that host.
 * @param {(host?: string) => string} base
 * @param {number} closedPort
 */
function demoUrls(base, closedPort) {
  const flakyHost = base('127.0.0.2');
  const deadHost = base('127.0.0.3');
  /** @type {Array<[string, number, (i: number) => string]>} */
  const kinds = [
    ['flaky 503 (then ok)', 40, (i) => `${flakyHost}/flaky?key=demo-503-${i}&fails=1`],
    [
      '429 with Retry-After: 1',
      10,
      (i) => `${flakyHost}/flaky?key=demo-429-${i}&fails=1&code=429&retryAfter=1`,
    ],
    ['dead links (404)', 20, (i) => `${deadHost}/status/404?page=${i}`],
    ['redirect chains (3 hops)', 20, (i) => `${base()}/chain/3?page=${i}`],
    ['redirect loops', 5, (i) => `${base()}/loop/a?page=${i}`],
    ['huge pages (12 MB)', 3, (i) => `${base()}/bytes?n=12000000&page=${i}`],
    ['pages that never answer', 5, (i) => `${base()}/hang?page=${i}`],
    ['refused connections', 2, (i) => `http://127.0.0.1:${closedPort}/page-${i}`],
  ];
  const special = kinds.flatMap(([, count, url]) =>
    Array.from({ length: count }, (_, i) => url(i)),
  );
  const pages = N - special.length;
  const ordinary = Array.from({ length: pages }, (_, i) => {
    const ms = i % 25 === 7 ? 2500 : 50 + ((i * 37) % 351);
    return `${base()}/bench/demo-${i}?ms=${ms}`;
  });
  // Faults spread through the list, as they would be in a real crawl.
  const urls = [...ordinary];
  special.forEach((url, i) => {
    urls.splice(Math.floor(((i + 1) * urls.length) / (special.length + 1)), 0, url);
  });
  const mix = [
    `${pages} pages (50-400 ms, one in 25 takes 2.5 s)`,
    ...kinds.map(([k, c]) => `${c} ${k}`),
  ];
  return { urls, mix };
}

/**
 * Runs the CLI on `urls` (stdin), its progress and summary on this terminal.
 * @param {string[]} urls
 * @param {string} out
 * @returns {Promise<number>}
 */
function runCli(urls, out) {
  const args = [
    join(ROOT, 'bin', 'scrape-fanout.mjs'),
    'run',
    '-',
    '--concurrency',
    String(CONCURRENCY),
    '--timeout-ms',
    String(TIMEOUT_MS),
    '--max-attempts',
    '2',
    '--out',
    out,
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin.end(`${urls.join('\n')}\n`);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
  });
}

async function main() {
  const origin = await startOrigin({ latencyMs: 100 });
  try {
    const { urls, mix } = demoUrls(origin.baseUrl, await freePort());
    const out = join(mkdtempSync(join(tmpdir(), 'scrape-fanout-demo-')), 'results.ndjson');
    process.stderr.write(
      `scrape-fanout demo: ${urls.length} URLs of a local origin (offline), run in-process by\n` +
        `\`scrape-fanout run - --concurrency ${CONCURRENCY} --timeout-ms ${TIMEOUT_MS} --max-attempts 2\`:\n` +
        `${mix.map((m) => `  ${m}`).join('\n')}\n\n`,
    );
    // Ctrl-C reaches the CLI too: it cancels the job and ends; the origin is closed after it.
    process.on('SIGINT', () => {});
    const code = await runCli(urls, out);
    process.stderr.write(`\nResults: ${out}\n`);
    return code;
  } finally {
    await origin.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 2;
  },
);
