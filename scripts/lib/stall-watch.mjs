import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

/**
 * @typedef {{ status?: string, counts?: Record<string, number> }} ViewLike
 */

/** URLs that have their Result, from a job view's counts. */
function settled(/** @type {ViewLike | null} */ view) {
  const c = view?.counts ?? {};
  return (c.succeeded ?? 0) + (c.failed ?? 0) + (c.cancelled ?? 0);
}

/**
 * Runs scripts/profile.mjs against the server's inspector for `seconds` and resolves with what
 * it printed (the heaviest functions), or why it could not.
 * @param {number} seconds @param {string} out @param {string} inspector
 * @returns {Promise<string>}
 */
export function captureProfile(seconds, out, inspector = 'ws://127.0.0.1:9229/ws') {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'scripts', 'profile.mjs'), String(seconds), inspector, out],
      { cwd: ROOT },
    );
    let text = '';
    child.stdout.on('data', (/** @type {Buffer} */ d) => (text += d.toString()));
    child.stderr.on('data', (/** @type {Buffer} */ d) => (text += d.toString()));
    // The profiler's own connection can hang on a thread that never yields.
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 10) * 1000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? text : `profile.mjs exited with ${code}: ${text.slice(-500)}`);
    });
  });
}

/**
 * Notices a job that stops moving while it runs (no URL settled for `quietMs`) and, once per
 * job, takes a CPU profile of the runtime then, so a stall is diagnosable after the fact.
 */
export class StallWatch {
  #quietMs;
  #out;
  #capture;
  #last = -1;
  #since = performance.now();
  #captured = false;

  /**
   * @param {{ quietMs?: number, out: string,
   *   capture?: (seconds: number, out: string) => Promise<string> }} opts
   */
  constructor(opts) {
    this.#quietMs = opts.quietMs ?? 15_000;
    this.#out = opts.out;
    this.#capture = opts.capture ?? captureProfile;
  }

  /**
   * Takes the latest view (null when the read failed). Resolves with a note when this call
   * found the job stalled and profiled it; null otherwise.
   * @param {ViewLike | null} view @param {number} now
   * @returns {Promise<string | null>}
   */
  async observe(view, now = performance.now()) {
    const n = view ? settled(view) : this.#last;
    if (n !== this.#last) {
      this.#last = n;
      this.#since = now;
      return null;
    }
    if (this.#captured || now - this.#since < this.#quietMs) return null;
    this.#captured = true;
    const top = await this.#capture(3, this.#out);
    const quietS = ((now - this.#since) / 1000).toFixed(1);
    return `no URL settled for ${quietS} s (at ${n}); profile ${this.#out}:\n${top.trim()}`;
  }
}
