// Following a job to its end: server-sent events first, polling when the stream breaks,
// with a cli-progress bar on stderr (a plain line every few seconds when it is not a TTY).
import cliProgress from 'cli-progress';
import { ApiError, TERMINAL } from './api.mjs';
import { formatEta, settledOf } from './format.mjs';
import { readSse } from './sse.mjs';

/** @typedef {import('./api.mjs').Client} Client */
/** @typedef {import('./api.mjs').JobView} JobView */

const POLL_MS = 500;
/** The server sends an event a second; this much silence means the stream is dead. */
const IDLE_MS = 10_000;
/** Polling gives up after this long without a single answer. */
const MAX_OUTAGE_MS = 60_000;
/** The rate and ETA are measured over this much recent history. */
const RATE_WINDOW_MS = 10_000;

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** The progress bar, with a rate and ETA measured over a sliding window. */
export class ProgressDisplay {
  /** @param {NodeJS.WriteStream} stream */
  constructor(stream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          '{bar} {percentage}% | {value}/{total} | {rate}/s | ETA {etaText} | ok {ok} failed {failed}{extra} | {status}',
        barsize: 30,
        hideCursor: true,
        fps: 5,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
    this.started = false;
    /** @type {{ at: number, settled: number }[]} */
    this.samples = [];
  }

  /** @param {JobView} view */
  update(view) {
    const c = view.counts;
    const settled = settledOf(view);
    const now = Date.now();
    this.samples.push({ at: now, settled });
    while (this.samples.length > 2 && now - this.samples[1].at > RATE_WINDOW_MS)
      this.samples.shift();
    const first = this.samples[0];
    const windowRate = now > first.at ? ((settled - first.settled) * 1000) / (now - first.at) : 0;
    const rate = view.ratePerSec ?? windowRate;
    const left = c.total - settled;
    const eta = left === 0 ? '0s' : windowRate > 0 ? formatEta((left / windowRate) * 1000) : '-';
    const payload = {
      rate: rate.toFixed(1),
      etaText: eta,
      ok: c.succeeded,
      failed: c.failed,
      extra: c.cancelled ? ` cancelled ${c.cancelled}` : '',
      status: view.status,
    };
    if (!this.started) {
      this.started = true;
      this.bar.start(c.total, settled, payload);
    } else {
      if (this.bar.getTotal() !== c.total) this.bar.setTotal(c.total);
      this.bar.update(settled, payload);
    }
  }

  stop() {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

/**
 * Follows the job's event stream; resolves to the final view, or null when the stream broke
 * (or ended) before the job did. API errors other than 5xx are thrown: polling would fail too.
 * @param {Client} client
 * @param {string} id
 * @param {(view: JobView) => void} onView
 * @returns {Promise<JobView | null>}
 */
async function followEvents(client, id, onView) {
  const abort = new AbortController();
  /** @type {NodeJS.Timeout | undefined} */
  let idle;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => abort.abort(), IDLE_MS);
  };
  arm();
  try {
    const res = await client.events(id, abort.signal);
    if (!res.body) return null;
    for await (const ev of readSse(res.body)) {
      arm();
      if (ev.event !== 'progress' && ev.event !== 'end') continue;
      /** @type {JobView} */
      const view = JSON.parse(ev.data);
      onView(view);
      if (ev.event === 'end' || TERMINAL.includes(view.status)) return view;
    }
    return null;
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) throw err;
    return null;
  } finally {
    clearTimeout(idle);
    abort.abort();
  }
}

/**
 * Polls the job every 500 ms until it ends, riding out short outages of the API.
 * @param {Client} client
 * @param {string} id
 * @param {(view: JobView) => void} onView
 * @returns {Promise<JobView>}
 */
async function poll(client, id, onView) {
  let lastAnswer = Date.now();
  for (;;) {
    try {
      const view = await client.job(id);
      lastAnswer = Date.now();
      onView(view);
      if (TERMINAL.includes(view.status)) return view;
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) throw err;
      if (Date.now() - lastAnswer > MAX_OUTAGE_MS) throw err;
    }
    await sleep(POLL_MS);
  }
}

/**
 * Follows a job until it ends, drawing the bar unless `quiet`. Ctrl-C stops following (the job
 * runs on) and says how to get back to it.
 * @param {Client} client
 * @param {string} id
 * @param {{ quiet?: boolean }} [options]
 * @returns {Promise<JobView>}
 */
export async function watchJob(client, id, options = {}) {
  const display = options.quiet ? null : new ProgressDisplay(process.stderr);
  const onSigint = () => {
    display?.stop();
    process.stderr.write(
      `\nstopped watching; job ${id} runs on. Follow it again with \`scrape-fanout watch ${id}\`` +
        ` or stop it with \`scrape-fanout cancel ${id}\`.\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  /** @param {JobView} view */
  const onView = (view) => display?.update(view);
  try {
    return (await followEvents(client, id, onView)) ?? (await poll(client, id, onView));
  } finally {
    process.off('SIGINT', onSigint);
    display?.stop();
  }
}
