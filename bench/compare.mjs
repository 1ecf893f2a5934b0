import { startBenchStack } from '../scripts/lib/bench-stack.mjs';
import { median, pollUntilEnd, procMeter, submitJob } from '../scripts/lib/harness.mjs';

const PAGES = 1_000;
const CONCURRENCY = 50;
/** Each page is padded to this many bytes: a typical HTML page's size. */
const PAGE_BYTES = 30_000;
const POLL_MS = 50;

/**
 * @typedef {{ wallMs: number, cpuS: number, bodyBytes: number, notModified: number,
 *   ok: number, changes: unknown }} Second
 */

/**
 * One job over `urls` through the API, polled to its end: wall time and workerd CPU.
 * @param {import('../scripts/lib/harness.mjs').Server} server
 * @param {Record<string, unknown>} body
 */
async function timedJob(server, body) {
  const meter = procMeter(() => server.workerdPids());
  meter.sample();
  const t0 = performance.now();
  const { id } = await submitJob(server.base, body);
  const view = await pollUntilEnd(server.base, id, POLL_MS, () => meter.sample());
  const wallMs = performance.now() - t0;
  meter.sample();
  if (view.status !== 'completed' || view.counts.succeeded !== PAGES) {
    throw new Error(`job ${id} ended ${view.status}: ${JSON.stringify(view.counts)}`);
  }
  return { id, view, wallMs, cpuS: meter.cpuS() };
}

/**
 * What the origin sent for one tag's versioned pages: body bytes, 304s, 200s.
 * @param {import('../scripts/lib/harness.mjs').Origin} origin @param {string} tag
 */
async function sent(origin, tag) {
  const stats = /** @type {{ conditional: Record<string, { bodyBytes: number,
   *   notModified: number, ok: number }> }} */ (/** @type {unknown} */ (await origin.stats(tag)));
  let bodyBytes = 0;
  let notModified = 0;
  let ok = 0;
  for (const c of Object.values(stats.conditional)) {
    bodyBytes += c.bodyBytes;
    notModified += c.notModified;
    ok += c.ok;
  }
  return { bodyBytes, notModified, ok };
}

/**
 * One round: a first run, then the two second runs in the order given (alternated between
 * rounds, so neither always runs on a warmer process).
 * @param {import('../scripts/lib/harness.mjs').Server} server
 * @param {import('../scripts/lib/harness.mjs').Origin} origin
 * @param {number} round
 */
async function round(server, origin, round) {
  const tag = (/** @type {string} */ what) => `compare-${round}-${what}`;
  const urls = (/** @type {string} */ t) =>
    Array.from(
      { length: PAGES },
      (_, i) => `${origin.baseUrl()}/versioned/p${i}?tag=${t}&size=${PAGE_BYTES}`,
    );
  const base = { concurrency: CONCURRENCY, timeoutMs: 30_000 };
  // Each kind of run has its own tag, so its origin counters are its own; the pages are the
  // same (an unchanged version 1 under every tag).
  const first = await timedJob(server, { ...base, urls: urls(tag('first')) });
  /** @type {Record<string, Second>} */
  const out = {};
  const order = round % 2 === 0 ? ['plain', 'compared'] : ['compared', 'plain'];
  for (const kind of order) {
    const t = kind === 'plain' ? tag('plain') : tag('first');
    const before = await sent(origin, t);
    const body = { ...base, urls: urls(t) };
    if (kind === 'compared') Object.assign(body, { compareWith: first.id });
    const job = await timedJob(server, body);
    const after = await sent(origin, t);
    out[kind] = {
      wallMs: Math.round(job.wallMs),
      cpuS: job.cpuS,
      bodyBytes: after.bodyBytes - before.bodyBytes,
      notModified: after.notModified - before.notModified,
      ok: after.ok - before.ok,
      changes: /** @type {{ changes?: unknown }} */ (job.view).changes,
    };
  }
  return out;
}

async function main() {
  const runs = Math.max(1, Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 3));
  const { origin, server, save, stop } = await startBenchStack('compare');
  /** @type {Array<Record<string, Second>>} */
  const rounds = [];
  try {
    for (let r = 0; r < runs; r++) rounds.push(await round(server, origin, r));
  } finally {
    await stop();
  }
  /** @param {string} kind @param {'wallMs' | 'cpuS' | 'bodyBytes' | 'notModified' | 'ok'} field */
  const med = (kind, field) => median(rounds.map((r) => r[kind]?.[field] ?? Number.NaN));
  console.log(
    `\n${PAGES} unchanged pages of ${PAGE_BYTES} bytes with ETags, concurrency ${CONCURRENCY}, medians of ${runs}:`,
  );
  console.log('second run   body bytes   304s   200s   workerd CPU   wall');
  for (const kind of ['plain', 'compared']) {
    console.log(
      `${kind.padEnd(11)}  ${String(med(kind, 'bodyBytes')).padStart(10)}  ${String(med(kind, 'notModified')).padStart(5)}` +
        `  ${String(med(kind, 'ok')).padStart(5)}  ${med(kind, 'cpuS').toFixed(2).padStart(10)} s  ${(med(kind, 'wallMs') / 1000).toFixed(2)} s`,
    );
  }
  console.log(`\nresults: ${save({ rounds })}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
