// The service's HTTP API as the benchmarks and drills call it: the local admin token, submitting
// a job, reading and polling it to its end, paging through its results.
import { setTimeout as delay } from 'node:timers/promises';

export const TOKEN = 'dev-token';
export const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

/**
 * @typedef {{ total: number, queued: number, inFlight: number, retrying: number,
 *   succeeded: number, failed: number, cancelled: number }} Counts
 * @typedef {{ id: string, status: string, createdAt?: string, startedAt?: string | null,
 *   finishedAt?: string | null, counts: Counts, stats?: Record<string, unknown> }} JobView
 * @typedef {{ url: string, ok: boolean, attempts: number, status?: number | null,
 *   error: null | { kind: string, message: string } }} Result
 */

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
