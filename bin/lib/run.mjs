// `scrape-fanout run`: one job without a server. The worker runs in an embedded runtime
// (lib/local), Results are written as they settle, and Ctrl-C cancels the job, writes the
// Results settled before it (each once) and exits 130.
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { ApiError } from './api.mjs';
import { err } from './command.mjs';
import { csvHeader, csvRow } from './csv.mjs';
import { formatMs } from './format.mjs';
import { JOB_HELP, JOB_OPTIONS, jobBody, UsageError } from './job-options.mjs';
import { ProgressDisplay } from './progress.mjs';
import { DEFAULT_CONCURRENCY, summaryLines, Tally } from './run-summary.mjs';
import { gatherUrls, pointAtUrl } from './urls.mjs';

/**
 * @typedef {import('./api.mjs').JobView} JobView
 * @typedef {import('./api.mjs').Result} Result
 * @typedef {import('./job-options.mjs').JobBody} JobBody
 * @typedef {import('../../lib/local/index.mjs').LocalScrapeFanout} Local
 * @typedef {{ write(text: string): Promise<void>, close(): Promise<void>, name: string }} Output
 */

/** The progress bar is fed a job view this often. */
const PROGRESS_MS = 250;

export const RUN_HELP = `Usage: scrape-fanout run [FILE|-] [--url URL]... [options]

Runs one job without a server: the worker and its Durable Objects run in this process's
embedded runtime (state in a temporary directory, removed at the end, unless --state).
URLs are read like submit reads them. Results are written as they settle; a progress bar
and, at the end, a summary go to stderr. Ctrl-C cancels the job, writes every Result settled
before it (each once) and exits 130; a second Ctrl-C, SIGTERM or SIGHUP quits at once.

${JOB_HELP}
Output:
  --out FILE             write Results to FILE (default: stdout)
  --format ndjson|csv    one JSON Result a line (default), or CSV with a header row
                         (default csv when FILE ends in .csv)
  --state DIR            keep the runtime's state (jobs, Results) in DIR
  -q, --quiet            no progress bar and no summary
  -h, --help             this help

Exit codes: 0 job completed, 1 failed, cancelled or timed out, 2 usage or other error,
            130 interrupted.
`;

/** @param {string[]} args */
export async function run(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...JOB_OPTIONS,
      'idempotency-key': { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      state: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('expected at most one FILE (or -)');
  const format = values.format ?? (values.out?.endsWith('.csv') ? 'csv' : 'ndjson');
  if (format !== 'ndjson' && format !== 'csv') {
    throw new UsageError(`--format: expected ndjson or csv, got "${values.format}"`);
  }
  const as = /** @type {'ndjson' | 'csv'} */ (format);
  const { urls, where } = await gatherUrls(values.url, positionals[0]);
  const body = jobBody(values, urls);
  const output = await openOutput(values.out);
  const interrupt = new Interrupt();
  try {
    // Loaded here: the runtime's modules are large, and no other command needs them.
    const { startLocal } = await import('../../lib/local/index.mjs');
    const local = await startLocal({ stateDir: values.state, handleSignals: false });
    try {
      const job = { body, where, format: as, idempotencyKey: values['idempotency-key'] };
      return await runJob(local, job, output, interrupt, values.quiet === true);
    } finally {
      await local.close();
    }
  } finally {
    interrupt.dispose();
    await output.close();
  }
}

/**
 * Submits the job, follows it to its end writing Results, and prints the summary.
 * @param {Local} local
 * @param {{ body: JobBody, where: string[], format: 'ndjson' | 'csv', idempotencyKey?: string }} job
 * @param {Output} output
 * @param {Interrupt} interrupt
 * @param {boolean} quiet
 */
async function runJob(local, job, output, interrupt, quiet) {
  if (interrupt.requested) {
    err('interrupted before the job started');
    return 130;
  }
  if (!quiet) {
    const how = local.info.built ? 'built the worker and started' : 'started';
    err(`${how} the local runtime in ${formatMs(local.info.startupMs)}`);
  }
  const t0 = performance.now();
  let submitted;
  try {
    submitted = await local.submit(job.body, { idempotencyKey: job.idempotencyKey });
  } catch (e) {
    if (e instanceof ApiError) pointAtUrl(e, job.where);
    throw e;
  }
  const id = submitted.id;
  interrupt.onCancel(() => local.cancel(id));
  const display = quiet ? null : new ProgressDisplay(process.stderr);
  interrupt.onRequest(() => display?.stop());
  const progress = followProgress(local, id, display, interrupt);
  const tally = await writeResults(local, id, output, job, interrupt).finally(progress.stop);
  await progress.done;
  const view = await local.job(id).catch(() => interrupt.cancelView);
  if (!view) throw new Error(`job ${id}: its final state could not be read`);
  if (!interrupt.requested) display?.update(view);
  display?.stop();
  const wallMs = performance.now() - t0;
  const concurrency = job.body.concurrency ?? DEFAULT_CONCURRENCY;
  const interrupted = interrupt.requested;
  if (!quiet) {
    for (const line of summaryLines({
      view,
      tally,
      wallMs,
      concurrency,
      out: output.name,
      interrupted,
    })) {
      err(line);
    }
  }
  if (interrupted) return 130;
  return view.status === 'completed' ? 0 : 1;
}

/**
 * Writes every Result as it settles. After Ctrl-C it waits for the cancel: when that ended the
 * job, the Results it made (kind `cancelled`) are left out, since they did not settle before.
 * @param {Local} local
 * @param {string} id
 * @param {Output} output
 * @param {{ body: JobBody, format: 'ndjson' | 'csv' }} job
 * @param {Interrupt} interrupt
 */
async function writeResults(local, id, output, job, interrupt) {
  const selectors = Object.keys(job.body.extract?.selectors ?? {});
  const line =
    job.format === 'csv'
      ? (/** @type {Result} */ r) => csvRow(r, selectors)
      : (/** @type {Result} */ r) => `${JSON.stringify(r)}\n`;
  if (job.format === 'csv') await output.write(csvHeader(selectors));
  const tally = new Tally();
  const abort = new AbortController();
  interrupt.onRequest(() => {
    // A cancel that failed leaves a job that may never end: stop reading then.
    void interrupt.cancelled.then((view) => view === null && abort.abort());
  });
  /** @type {boolean | undefined} */
  let dropCancelled;
  try {
    for await (const r of local.results(id, { signal: abort.signal })) {
      if (interrupt.requested && dropCancelled === undefined) {
        dropCancelled = (await interrupt.cancelled)?.status === 'cancelled';
      }
      if (dropCancelled && r.error?.kind === 'cancelled') {
        tally.dropped++;
        continue;
      }
      await output.write(line(r));
      tally.add(r);
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  }
  return tally;
}

/**
 * Feeds the progress bar a job view every PROGRESS_MS until stopped or interrupted.
 * @param {Local} local
 * @param {string} id
 * @param {ProgressDisplay | null} display
 * @param {Interrupt} interrupt
 */
function followProgress(local, id, display, interrupt) {
  let stopped = display === null;
  /** @type {(() => void) | undefined} */
  let wake;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  const done = (async () => {
    while (!stopped && !interrupt.requested) {
      const view = await local.job(id).catch(() => null);
      if (view && !stopped && !interrupt.requested) display?.update(view);
      await new Promise((r) => {
        wake = () => r(undefined);
        setTimeout(wake, PROGRESS_MS);
      });
    }
  })();
  return { stop, done };
}

/**
 * Ctrl-C while `run` runs: the first asks for the job to be cancelled, a second quits at once.
 * SIGTERM and SIGHUP quit at once.
 */
class Interrupt {
  constructor() {
    this.requested = false;
    /** @type {Array<() => void>} */
    this.hooks = [];
    /** @type {(() => Promise<JobView>) | null} */
    this.cancel = null;
    /** @type {JobView | null} the job as the cancel left it */
    this.cancelView = null;
    /** @type {(view: JobView | null) => void} */
    this.settle = () => {};
    /** Resolves to the cancelled job's view, or null when the cancel failed. */
    this.cancelled = /** @type {Promise<JobView | null>} */ (
      new Promise((r) => {
        this.settle = r;
      })
    );
    this.listener = () => this.signal();
    process.on('SIGINT', this.listener);
    process.on('SIGTERM', quit);
    process.on('SIGHUP', quit);
  }

  signal() {
    if (this.requested) {
      err('\ninterrupted again: quitting without waiting for the cancel');
      process.exit(130);
    }
    this.requested = true;
    for (const hook of this.hooks) hook();
    err('\ninterrupted: cancelling the job (Ctrl-C again to quit at once)');
    this.startCancel();
  }

  /** @param {() => void} hook run once Ctrl-C is pressed */
  onRequest(hook) {
    this.hooks.push(hook);
  }

  /** @param {() => Promise<JobView>} cancel how to cancel the job, once it exists */
  onCancel(cancel) {
    this.cancel = cancel;
    if (this.requested) this.startCancel();
  }

  startCancel() {
    const cancel = this.cancel;
    if (!cancel) return;
    this.cancel = null;
    cancel().then(
      (view) => {
        this.cancelView = view;
        this.settle(view);
      },
      (e) => {
        err(`could not cancel the job: ${e instanceof Error ? e.message : String(e)}`);
        this.settle(null);
      },
    );
  }

  dispose() {
    process.off('SIGINT', this.listener);
    process.off('SIGTERM', quit);
    process.off('SIGHUP', quit);
  }
}

/**
 * SIGTERM or SIGHUP: exit now. Exiting (rather than dying of the signal) runs the exit hooks
 * that stop the runtime and delete its temporary state.
 * @param {NodeJS.Signals} signal
 */
function quit(signal) {
  err(`\n${signal}: quitting`);
  process.exit(signal === 'SIGHUP' ? 129 : 143);
}

/**
 * Where Results go: FILE (opened now, so a bad path fails before anything starts) or stdout.
 * @param {string | undefined} file
 * @returns {Promise<Output>}
 */
async function openOutput(file) {
  const stream = file === undefined ? process.stdout : (await open(file, 'w')).createWriteStream();
  /** @type {unknown} */
  let error;
  stream.on('error', (e) => {
    error ??= e;
  });
  return {
    name: file ?? 'stdout',
    async write(text) {
      if (error) throw error;
      if (!stream.write(text)) await once(stream, 'drain');
    },
    async close() {
      if (file !== undefined) {
        stream.end();
        await finished(stream).catch(() => {});
      }
      if (error) throw error;
    },
  };
}
