#!/usr/bin/env node
// Plain Node fetch (undici, built in) as a baseline for bench/baseline.mjs: a counting
// semaphore of C, the body read with `await res.text()`, the title and the `<a` tags found
// with a regex (no parser).
//
//   node bench/baselines/node-fetch.mjs URLS_FILE CONCURRENCY
//
// Prints one JSON line: {"n", "ok", "failed", "links", "wallMs", "cpuS"}. wallMs runs from just
// before the first request to the last page parsed; cpuS is this process's CPU time over the
// same span (start-up excluded, as the service's CPU is counted from its POST). A page is ok
// when it answered 200 and has a <title>.
import { readFileSync } from 'node:fs';

const TIMEOUT_MS = 30_000;
const TITLE = /<title[^>]*>([^<]*)<\/title>/i;
// `<a` followed by a space or `>`: not `<abbr>`, `<article>`, `<aside>`.
const LINK = /<a[\s>]/gi;

/** A counting semaphore: at most `limit` holders at a time, waiters served in order. */
function semaphore(/** @type {number} */ limit) {
  let free = limit;
  /** @type {Array<() => void>} */
  const waiting = [];
  return {
    async acquire() {
      if (free > 0) free--;
      else await new Promise((resolve) => waiting.push(() => resolve(undefined)));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/**
 * The page's number of links, or null when it failed.
 * @param {string} url @param {ReturnType<typeof semaphore>} sem
 */
async function scrape(url, sem) {
  await sem.acquire();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const html = await res.text();
    const title = TITLE.exec(html)?.[1];
    const links = html.match(LINK)?.length ?? 0;
    return res.status === 200 && title !== undefined ? links : null;
  } catch {
    return null;
  } finally {
    sem.release();
  }
}

const [file = '', c = '0'] = process.argv.slice(2);
const urls = readFileSync(file, 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter(Boolean);
const sem = semaphore(Math.max(1, Number(c)));
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const pages = await Promise.all(urls.map((url) => scrape(url, sem)));
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const done = pages.filter((p) => p !== null);
const out = {
  n: urls.length,
  ok: done.length,
  failed: urls.length - done.length,
  links: done.reduce((a, b) => a + b, 0),
  wallMs: Math.round(wallMs * 10) / 10,
  cpuS: Math.round((cpu.user + cpu.system) / 1000) / 1000,
};
console.log(JSON.stringify(out));
