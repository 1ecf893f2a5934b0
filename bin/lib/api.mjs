// A small client for the scrape-fanout HTTP API v1 (docs/api.md). Every failure becomes an
// ApiError (the server's error envelope) or a NetworkError (the server could not be reached).

/**
 * @typedef {{ total: number, queued: number, inFlight: number, retrying: number,
 *   succeeded: number, failed: number, cancelled: number }} JobCounts
 * @typedef {'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out'} JobStatus
 * @typedef {{ id: string, owner: string, status: JobStatus, mode: string, createdAt: string,
 *   startedAt: string | null, finishedAt: string | null, deadlineAt: string | null,
 *   counts: JobCounts, stats: { p50Ms: number | null, p95Ms: number | null, bytes: number },
 *   ratePerSec?: number }} JobView
 * @typedef {{ id: string, status: JobStatus, accepted: number, duplicates: number }} Submitted
 * @typedef {{ url: string, finalUrl: string | null, ok: boolean, status: number | null,
 *   contentType: string | null, title: string | null, links: number, bytes: number,
 *   attempts: number, durationMs: number, fetchedAt: string | null,
 *   data: Record<string, string | null> | null, rendered: boolean, renderMs: number | null,
 *   contentHash: string | null,
 *   notModified: boolean, changed: boolean | null,
 *   error: { kind: string, message: string } | null }} Result
 * @typedef {{ id: string, name: string, maxActiveJobs: number, maxConcurrency: number,
 *   createdAt: string }} KeyView
 * @typedef {KeyView & { token: string }} NewKey
 * @typedef {{ name: string, maxActiveJobs?: number, maxConcurrency?: number }} KeyBody
 */

export const TERMINAL = ['completed', 'failed', 'cancelled', 'timed_out'];
/** Plain requests give up after this; streams are bounded by their callers. */
const REQUEST_TIMEOUT_MS = 30_000;

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {unknown} [details]
   * @param {number | null} [retryAfter] seconds, from a Retry-After header
   */
  constructor(status, code, message, details, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

export class NetworkError extends Error {
  /**
   * @param {string} url
   * @param {unknown} cause
   */
  constructor(url, cause) {
    super(`cannot reach ${url}: ${describeCause(cause)}`);
    this.url = url;
  }
}

/** @param {unknown} err */
function describeCause(err) {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'no answer in time';
  const cause = /** @type {{ code?: string, message?: string } | undefined} */ (err.cause);
  if (cause?.code) return cause.code;
  return cause?.message ?? err.message;
}

/**
 * Turns a non-2xx response into an ApiError, whether or not it carries the JSON envelope
 * (a proxy or the dev server itself may answer with HTML).
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
export async function errorFrom(res) {
  const text = await res.text().catch(() => '');
  const retry = res.headers.get('retry-after');
  const retryAfter = retry !== null && /^\d{1,9}$/.test(retry) ? Number(retry) : null;
  try {
    const body = JSON.parse(text);
    const e = body?.error;
    if (e && typeof e.code === 'string') {
      return new ApiError(res.status, e.code, String(e.message ?? ''), e.details, retryAfter);
    }
  } catch {
    // not JSON: fall through
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return new ApiError(res.status, `http_${res.status}`, snippet || res.statusText || 'no body');
}

/** @typedef {(url: string, init: RequestInit) => Promise<Response>} FetchLike */

export class Client {
  /**
   * @param {{ baseUrl: string, token: string, fetch?: FetchLike }} options `fetch` replaces the
   *   global one (the embedded runtime of lib/local routes requests through its own)
   */
  constructor({ baseUrl, token, fetch: fetchImpl }) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.token = token;
    /** @type {FetchLike} */
    this.fetch = fetchImpl ?? ((url, init) => fetch(url, init));
  }

  /**
   * Sends a request; resolves to the (2xx) response, whose body the caller reads.
   * @param {string} method
   * @param {string} path
   * @param {{ body?: unknown, headers?: Record<string, string>, signal?: AbortSignal }} [init]
   * @returns {Promise<Response>}
   */
  async request(method, path, init = {}) {
    const url = `${this.baseUrl}${path}`;
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${this.token}`, ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await this.fetch(url, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new NetworkError(url, err);
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{ body?: unknown, headers?: Record<string, string> }} [init]
   * @template T
   * @returns {Promise<T>}
   */
  async json(method, path, init) {
    const res = await this.request(method, path, init);
    return /** @type {T} */ (await res.json());
  }

  /**
   * @param {unknown} body
   * @param {{ idempotencyKey?: string }} [options]
   * @returns {Promise<Submitted>}
   */
  submit(body, options = {}) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    return this.json('POST', '/v1/jobs', { body, headers });
  }

  /** @param {string} id @returns {Promise<JobView>} */
  job(id) {
    return this.json('GET', jobPath(id));
  }

  /** @param {string} id @returns {Promise<JobView>} */
  cancel(id) {
    return this.json('DELETE', jobPath(id));
  }

  /**
   * A new job of the failed URLs of job `id` (only of `kinds`, when given).
   * @param {string} id @param {string[]} [kinds]
   * @returns {Promise<{ id: string, status: string, accepted: number, redriveOf: string }>}
   */
  redrive(id, kinds = []) {
    const body = kinds.length > 0 ? { kinds } : undefined;
    return this.json('POST', `${jobPath(id)}/redrive`, { body });
  }

  /**
   * Cancels the job if it runs and deletes all of its data.
   * @param {string} id @returns {Promise<{ id: string, purged: true }>}
   */
  purge(id) {
    return this.json('DELETE', `${jobPath(id)}?purge=true`);
  }

  /** @param {KeyBody} body @returns {Promise<NewKey>} */
  createKey(body) {
    return this.json('POST', '/v1/keys', { body });
  }

  /**
   * One page of API keys, newest first.
   * @param {string | null} cursor
   * @returns {Promise<{ items: KeyView[], nextCursor: string | null }>}
   */
  keys(cursor) {
    const query = cursor ? `?limit=100&cursor=${encodeURIComponent(cursor)}` : '?limit=100';
    return this.json('GET', `/v1/keys${query}`);
  }

  /** @param {string} id @returns {Promise<{ id: string, deleted: true }>} */
  deleteKey(id) {
    return this.json('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  }

  /** @param {string} id @param {number} deadlineMs @returns {Promise<JobView>} */
  setDeadline(id, deadlineMs) {
    return this.json('PATCH', jobPath(id), { body: { deadlineMs } });
  }

  /**
   * All results as an NDJSON (or CSV) stream, only ok or failed ones (`ok`) or of one `kind`
   * when given; with `follow`, it lasts until the job ends.
   * @param {string} id
   * @param {{ follow?: boolean, signal?: AbortSignal, format?: 'ndjson' | 'csv',
   *   ok?: boolean, kind?: string }} [options]
   */
  results(id, options = {}) {
    const query = new URLSearchParams();
    if (options.follow) query.set('follow', 'true');
    if (options.ok !== undefined) query.set('ok', String(options.ok));
    if (options.kind !== undefined) query.set('kind', options.kind);
    const qs = query.size > 0 ? `?${query}` : '';
    const accept = options.format === 'csv' ? 'text/csv' : 'application/x-ndjson';
    return this.request('GET', `${jobPath(id)}/results${qs}`, {
      headers: { accept },
      signal: options.signal ?? new AbortController().signal,
    });
  }

  /**
   * A body the job stored (`store.bodies`), streamed as kept; `hash` is 64 hex digits.
   * @param {string} id @param {string} hash
   */
  body(id, hash) {
    // No request timeout: a large body may take longer than one to arrive.
    return this.request('GET', `${jobPath(id)}/bodies/${encodeURIComponent(hash)}`, {
      signal: new AbortController().signal,
    });
  }

  /**
   * One page of a job's attempt log (retried and lost attempts).
   * @param {string} id @param {string | null} cursor
   * @returns {Promise<{ items: Array<Record<string, unknown>>, nextCursor: string | null }>}
   */
  attempts(id, cursor) {
    const query = cursor ? `?limit=1000&cursor=${encodeURIComponent(cursor)}` : '?limit=1000';
    return this.json('GET', `${jobPath(id)}/attempts${query}`);
  }

  /**
   * The server-sent progress events of a job.
   * @param {string} id
   * @param {AbortSignal} signal
   */
  events(id, signal) {
    return this.request('GET', `${jobPath(id)}/events`, {
      headers: { accept: 'text/event-stream' },
      signal,
    });
  }
}

/** @param {string} id */
function jobPath(id) {
  return `/v1/jobs/${encodeURIComponent(id)}`;
}
