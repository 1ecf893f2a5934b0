// scrape-fanout without a server: the worker and its Durable Objects run in an embedded runtime
// (miniflare's workerd, SQLite storage under a state directory), driven through the same HTTP
// API as a deployment. `import { startLocal } from 'scrape-fanout/local'`; types in index.d.mts.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Miniflare, NoOpLog } from 'miniflare';
import { ApiError, Client, NetworkError, TERMINAL } from '../../bin/lib/api.mjs';
import { workerBundle } from './build.mjs';
import { ndjsonLines } from './ndjson.mjs';

export { ApiError };

/**
 * @typedef {import('../../bin/lib/api.mjs').JobView} JobView
 * @typedef {import('../../bin/lib/api.mjs').Submitted} Submitted
 * @typedef {{ urls: string[], concurrency?: number, perHostConcurrency?: number,
 *   timeoutMs?: number, deadlineMs?: number,
 *   retry?: { maxAttempts?: number, baseDelayMs?: number, maxDelayMs?: number },
 *   mode?: 'settle' | 'failFast', maxFailures?: number | string, maxBytes?: number,
 *   respectRobots?: boolean, callbackUrl?: string,
 *   extract?: { selectors?: Record<string, string>, links?: boolean, meta?: boolean } }} JobSpec
 * @typedef {import('./build.mjs').WorkerBundle} WorkerBundle
 * @typedef {import('../../bin/lib/api.mjs').Result} Result
 * @typedef {{ timestamp: number, level: string, message: string }} RuntimeLog
 * @typedef {{ stateDir?: string, token?: string, allowPrivateTargets?: boolean,
 *   vars?: Record<string, string>, handleSignals?: boolean,
 *   onLog?: (entry: RuntimeLog) => void }} LocalOptions
 */

/** `wait` polls this often at first, backing off to WAIT_MAX_MS. */
const WAIT_FIRST_MS = 50;
const WAIT_MAX_MS = 500;
/** `results` reopens a broken or expired stream this many times in a row without progress. */
const MAX_REOPENS = 5;
const SIGNALS = /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP']);
/**
 * Miniflare restarts a runtime that died (a Ctrl-C in a terminal reaches it too): calls that
 * may be repeated are retried this long while it cannot be reached. State is on disk.
 */
const RESTART_GRACE_MS = 20_000;
const RETRY_PAUSE_MS = 250;

/**
 * Starts the worker in an embedded runtime and returns a client for it. `close()` stops the
 * runtime (no process or handle is left) and deletes the state directory unless it was given.
 * @param {LocalOptions} [options]
 */
export async function startLocal(options = {}) {
  const started = performance.now();
  const bundle = await workerBundle();
  const ownState = options.stateDir === undefined;
  const stateDir = ownState
    ? await mkdtemp(join(tmpdir(), 'scrape-fanout-local-'))
    : resolve(/** @type {string} */ (options.stateDir));
  await mkdir(stateDir, { recursive: true });
  const token = options.token ?? `local-${randomBytes(18).toString('base64url')}`;
  const before = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
  /** @type {Miniflare | undefined} */
  let mf;
  let url;
  try {
    mf = new Miniflare(miniflareOptions(bundle, stateDir, token, options));
    // Miniflare's own handlers exit the process on a signal; a caller that handles them asks
    // for them to go (the runtime is still killed when the process exits).
    if (options.handleSignals === false) {
      for (const [signal, kept] of before) {
        for (const l of process.listeners(signal)) if (!kept.includes(l)) process.off(signal, l);
      }
    }
    url = await mf.ready;
  } catch (e) {
    await mf?.dispose().catch(() => {});
    if (ownState) await rm(stateDir, { recursive: true, force: true });
    throw e;
  }
  const info = { bundle: bundle.path, built: bundle.built, startupMs: performance.now() - started };
  return new LocalScrapeFanout(mf, { url: url.origin, token, stateDir, ownState, info });
}

/**
 * Miniflare 5's options: one worker whose `config` is the bundle plus wrangler.toml's bindings,
 * every Durable Object class exported with its storage, all state under `stateDir`.
 * @param {WorkerBundle} bundle
 * @param {string} stateDir
 * @param {string} token
 * @param {LocalOptions} options
 * @returns {import('miniflare').MiniflareOptions}
 */
function miniflareOptions(bundle, stateDir, token, options) {
  const d = bundle.descriptor;
  /** @type {Record<string, { type: 'text', value: string } | { type: 'durable-object', worker: string, exportName: string } | { type: 'r2', name: string }>} */
  const env = {};
  const vars = {
    ...d.vars,
    API_TOKEN: token,
    ALLOW_PRIVATE_TARGETS: options.allowPrivateTargets === false ? 'false' : 'true',
    WEBHOOK_SECRET: '',
    ...options.vars,
  };
  for (const [name, value] of Object.entries(vars)) env[name] = { type: 'text', value };
  /** @type {Record<string, { type: 'durable-object', storage: 'sqlite' | 'legacy-kv' }>} */
  const exports = {};
  for (const o of d.durableObjects) {
    env[o.binding] = { type: 'durable-object', worker: d.name, exportName: o.className };
    exports[o.className] = { type: 'durable-object', storage: o.storage };
  }
  // Buckets are kept under `stateDir` like the objects' storage (resourcePersistencePath).
  for (const b of d.r2Buckets ?? []) env[b.binding] = { type: 'r2', name: b.bucketName };
  // Browser Rendering: a local Chrome (Debian's Chromium, seeded by `npm run setup:browser`).
  if (d.browser) env[d.browser] = { type: 'browser', dev: { remote: false } };
  const onLog = options.onLog;
  return {
    host: '127.0.0.1',
    port: 0,
    // No request for the Request.cf object (it would go to the internet), no dev registry.
    cf: false,
    enableDevRegistry: false,
    logRequests: false,
    log: new NoOpLog(),
    handleStructuredLogs: (entry) => onLog?.(entry),
    resourcePersistencePath: stateDir,
    workers: [
      {
        config: {
          name: d.name,
          compatibilityDate: d.compatibilityDate,
          compatibilityFlags: d.compatibilityFlags,
          manifest: {
            mainModule: 'worker.mjs',
            modulesRoot: stateDir,
            modules: { 'worker.mjs': { type: 'esm', contents: bundle.code } },
          },
          env,
          exports,
        },
      },
    ],
  };
}

/** A client of the embedded runtime: jobs in, Results out. */
export class LocalScrapeFanout {
  /** @type {Miniflare | null} */
  #mf;
  #ownState;
  /** @type {Promise<void> | null} */
  #closing = null;
  /** Deletes a temporary state directory when the process exits without close(). */
  #onExit = () => rmSync(this.stateDir, { recursive: true, force: true });
  /** The HTTP API client every method goes through (the CLI's own). */
  #client;

  /**
   * @param {Miniflare} mf
   * @param {{ url: string, token: string, stateDir: string, ownState: boolean,
   *   info: { bundle: string, built: boolean, startupMs: number } }} init
   */
  constructor(mf, init) {
    this.#mf = mf;
    this.#ownState = init.ownState;
    /** The runtime's address, for any HTTP client (the token is `token`). */
    this.url = init.url;
    this.token = init.token;
    this.stateDir = init.stateDir;
    /** The bundle used, whether this start built it, and how long the start took. */
    this.info = init.info;
    if (init.ownState) process.once('exit', this.#onExit);
    this.#client = new Client({
      baseUrl: init.url,
      token: init.token,
      fetch: (url, req) => {
        if (!this.#mf) return Promise.reject(new Error('the local runtime is closed'));
        return /** @type {Promise<Response>} */ (
          /** @type {unknown} */ (this.#mf.dispatchFetch(url, /** @type {never} */ (req)))
        );
      },
    });
  }

  /**
   * Creates a job (POST /v1/jobs).
   * @param {JobSpec} spec
   * @param {{ idempotencyKey?: string }} [options]
   * @returns {Promise<Submitted>}
   */
  submit(spec, options = {}) {
    return this.#client.submit(spec, options);
  }

  /** @param {string} id @returns {Promise<JobView>} */
  job(id) {
    return this.#retrying(() => this.#client.job(id));
  }

  /**
   * Cancels the job; resolves once every URL has its Result.
   * @param {string} id @returns {Promise<JobView>}
   */
  cancel(id) {
    return this.#retrying(() => this.#client.cancel(id));
  }

  /**
   * Resolves to the job's final view once it has ended; rejects with a TimeoutError after
   * `timeoutMs` (the job runs on).
   * @param {string} id
   * @param {{ timeoutMs?: number }} [options]
   * @returns {Promise<JobView>}
   */
  async wait(id, options = {}) {
    const until = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (let pause = WAIT_FIRST_MS; ; pause = Math.min(WAIT_MAX_MS, pause * 1.5)) {
      const view = await this.job(id);
      if (TERMINAL.includes(view.status)) return view;
      const left = until - Date.now();
      if (left <= 0) {
        const e = new Error(`job ${id} is still ${view.status} after ${options.timeoutMs} ms`);
        e.name = 'TimeoutError';
        throw e;
      }
      await new Promise((r) => setTimeout(r, Math.min(pause, left)));
    }
  }

  /**
   * Every Result of the job in the order URLs settled, each once, as they settle, until the job
   * has ended and all are read. A stream that breaks or expires is read again from the start,
   * skipping what was yielded. Breaking out of the loop releases the stream.
   * @param {string} id
   * @param {{ signal?: AbortSignal }} [options]
   * @returns {AsyncGenerator<Result>}
   */
  async *results(id, options = {}) {
    let seen = 0;
    for (let reopens = 0; ; ) {
      const abort = new AbortController();
      const stop = () => abort.abort(options.signal?.reason);
      options.signal?.addEventListener('abort', stop, { once: true });
      const before = seen;
      try {
        const res = await this.#client.results(id, { follow: true, signal: abort.signal });
        let skip = seen;
        for await (const line of ndjsonLines(res.body ?? emptyBody())) {
          if (skip > 0) skip--;
          else {
            seen++;
            /** @type {Result} */
            const result = JSON.parse(line);
            yield result;
          }
        }
      } catch (e) {
        if (options.signal?.aborted || e instanceof ApiError || !this.#mf) throw e;
        if (reopens >= MAX_REOPENS) throw e;
      } finally {
        options.signal?.removeEventListener('abort', stop);
        abort.abort();
      }
      const view = await this.job(id);
      if (TERMINAL.includes(view.status) && seen >= view.counts.total) return;
      reopens = seen > before ? 0 : reopens + 1;
      if (reopens > MAX_REOPENS) throw new Error(`results of ${id}: the stream keeps ending early`);
      if (reopens > 0) await new Promise((r) => setTimeout(r, 200 * reopens));
    }
  }

  /**
   * Runs `call` again while the runtime cannot be reached, for up to RESTART_GRACE_MS.
   * @template T
   * @param {() => Promise<T>} call
   * @returns {Promise<T>}
   */
  async #retrying(call) {
    const until = Date.now() + RESTART_GRACE_MS;
    for (;;) {
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof NetworkError) || !this.#mf || Date.now() > until) throw e;
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
      }
    }
  }

  /** Stops the runtime and deletes the state directory unless it was given. Idempotent. */
  close() {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close() {
    const mf = this.#mf;
    this.#mf = null;
    await mf?.dispose();
    if (this.#ownState) {
      process.off('exit', this.#onExit);
      await rm(this.stateDir, { recursive: true, force: true });
    }
  }
}

/** @returns {AsyncIterable<Uint8Array>} */
async function* emptyBody() {}
