// The request mix of the load test (bench/load.mjs): autocannon's per-connection request
// sequence, each request tagged with its kind so that every response is counted, and its
// latency kept, under that kind. autocannon itself keeps one histogram of 2xx latencies only.
import { createRequire } from 'node:module';
import { percentile, TOKEN } from './harness.mjs';

/**
 * The parts of autocannon's programmatic API used here (the package ships no types).
 * @typedef {{ method?: string, path: string, headers?: Record<string, string>, body?: string,
 *   setupRequest?: (req: AcRequest, context: Record<string, unknown>) => AcRequest | null,
 *   onResponse?: (status: number, body: string, context: Record<string, unknown>) => void
 * }} AcRequest
 * @typedef {{ requests: { average: number, total: number, sent: number },
 *   latency: { p50: number, p99: number, average: number, max: number },
 *   errors: number, timeouts: number, non2xx: number, resets: number, duration: number,
 *   statusCodeStats: Record<string, { count: number }> }} AcResult
 * @typedef {{ on: (ev: 'response', fn: (client: unknown, status: number, bytes: number,
 *   ms: number) => void) => void }} AcInstance
 * @typedef {((opts: Record<string, unknown>, cb: (err: Error | null, res: AcResult) => void)
 *   => AcInstance)} Autocannon
 */

const require = createRequire(import.meta.url);
/** @type {Autocannon} */
const autocannon = require('autocannon');

/** What each kind of request saw: its statuses and latencies (ms), all of them. */
export class KindStats {
  /** @type {Map<string, { statuses: Map<number, number>, ms: number[] }>} */
  kinds = new Map();

  /** @param {string} kind @param {number} status @param {number} ms */
  add(kind, status, ms) {
    let k = this.kinds.get(kind);
    if (!k) {
      k = { statuses: new Map(), ms: [] };
      this.kinds.set(kind, k);
    }
    k.statuses.set(status, (k.statuses.get(status) ?? 0) + 1);
    k.ms.push(ms);
  }

  /** Per kind and over all: count, statuses, p50/p99/max latency; `durationS` gives req/s. */
  /** @param {number} durationS */
  summary(durationS) {
    /** @param {number[]} ms @param {Map<number, number>} statuses */
    const row = (ms, statuses) => ({
      requests: ms.length,
      perSec: ms.length / durationS,
      p50Ms: percentile(ms, 50),
      p99Ms: percentile(ms, 99),
      maxMs: ms.reduce((a, b) => Math.max(a, b), 0),
      statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
      non2xx: [...statuses].reduce((n, [s, c]) => (s >= 200 && s < 300 ? n : n + c), 0),
      status5xx: [...statuses].reduce((n, [s, c]) => (s >= 500 ? n + c : n), 0),
    });
    /** @type {Record<string, ReturnType<typeof row>>} */
    const byKind = {};
    const allMs = [];
    /** @type {Map<number, number>} */
    const allStatuses = new Map();
    for (const [kind, k] of this.kinds) {
      byKind[kind] = row(k.ms, k.statuses);
      allMs.push(...k.ms);
      for (const [s, c] of k.statuses) allStatuses.set(s, (allStatuses.get(s) ?? 0) + c);
    }
    return { overall: row(allMs, allStatuses), byKind };
  }
}

/**
 * The request sequence every connection runs in a loop: create a small job, then status reads
 * of the big job and of the job it created, the job list and a page of the big job's Results.
 * @param {{ bigId: string, smallJob: Record<string, unknown>, record: (kind: string) => void }} o
 * @returns {Array<AcRequest & { kind: string }>}
 */
export function mixRequests({ bigId, smallJob, record }) {
  const auth = { authorization: `Bearer ${TOKEN}` };
  /** @param {string} kind @param {AcRequest} req */
  const tagged = (kind, req) => ({
    kind,
    headers: auth,
    ...req,
    /** @type {AcRequest['onResponse']} */
    onResponse: (status, body, context) => {
      record(kind);
      if (kind === 'create' && status < 300) context.jobId = JSON.parse(body).id;
    },
  });
  return [
    tagged('create', {
      method: 'POST',
      path: '/v1/jobs',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(smallJob),
    }),
    tagged('status-big', { method: 'GET', path: `/v1/jobs/${bigId}` }),
    tagged('status-created', {
      method: 'GET',
      path: `/v1/jobs/${bigId}`,
      // The job this connection just created (the big one if that create failed).
      setupRequest: (req, context) => ({ ...req, path: `/v1/jobs/${context.jobId ?? bigId}` }),
    }),
    tagged('list', { method: 'GET', path: '/v1/jobs?limit=20' }),
    tagged('status-big', { method: 'GET', path: `/v1/jobs/${bigId}` }),
    tagged('results-page', { method: 'GET', path: `/v1/jobs/${bigId}/results?limit=100` }),
  ];
}

/**
 * Runs the mix for `durationS` seconds over `connections` connections; resolves with
 * autocannon's result and the per-kind statistics. `only` keeps the requests of those kinds.
 * @param {{ base: string, connections: number, durationS: number, bigId: string,
 *   smallJob: Record<string, unknown>, only?: string[] }} o
 */
export function runMix({ base, connections, durationS, bigId, smallJob, only = [] }) {
  const stats = new KindStats();
  // onResponse (which names the kind) runs just before the instance's 'response' event of the
  // same response, in the same synchronous call.
  let kind = '?';
  const all = mixRequests({ bigId, smallJob, record: (k) => (kind = k) });
  const requests = only.length > 0 ? all.filter((r) => only.includes(r.kind)) : all;
  if (requests.length === 0) throw new Error(`no request of the kinds ${only.join(', ')}`);
  return /** @type {Promise<{ result: AcResult, stats: KindStats }>} */ (
    new Promise((resolve, reject) => {
      const instance = autocannon(
        { url: base, connections, duration: durationS, timeout: 30, requests },
        (err, result) => (err ? reject(err) : resolve({ result, stats })),
      );
      instance.on('response', (_client, status, _bytes, ms) => stats.add(kind, status, ms));
    })
  );
}
