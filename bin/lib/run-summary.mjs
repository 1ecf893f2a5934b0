// What `run` says at the end: the Results it wrote (ok, failed by kind), the job's latency and
// the wall time against the floor of the job (ceil(N / C) rounds of the median latency).
import { formatMs } from './format.mjs';

/** @typedef {import('./api.mjs').JobView} JobView */
/** @typedef {import('./api.mjs').Result} Result */

/** The server's default `concurrency` (docs/api.md, "Fields and parameters"). */
export const DEFAULT_CONCURRENCY = 20;

/** Counts of the Results written, and of those left out after Ctrl-C. */
export class Tally {
  constructor() {
    this.written = 0;
    this.ok = 0;
    /** @type {Map<string, number>} failed Results per error kind */
    this.failedBy = new Map();
    /** Results the cancel made after Ctrl-C (kind `cancelled`): not written. */
    this.dropped = 0;
  }

  /** @param {Result} r a Result that was written */
  add(r) {
    this.written++;
    if (r.ok) this.ok++;
    else {
      const kind = r.error?.kind ?? 'unknown';
      this.failedBy.set(kind, (this.failedBy.get(kind) ?? 0) + 1);
    }
  }

  get failed() {
    return this.written - this.ok;
  }
}

/**
 * The floor of a job: every round of C fetches takes the median latency.
 * @param {number} n URLs
 * @param {number} c concurrency
 * @param {number | null} medianMs
 */
export function floorMs(n, c, medianMs) {
  if (medianMs === null || n === 0) return null;
  return Math.ceil(n / Math.max(1, c)) * medianMs;
}

/**
 * The summary table, one line each.
 * @param {{ view: JobView, tally: Tally, wallMs: number, concurrency: number,
 *   out: string, interrupted: boolean }} run
 * @returns {string[]}
 */
export function summaryLines(run) {
  const { view, tally } = run;
  const n = view.counts.total;
  const kinds = [...tally.failedBy].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  /** @type {Array<[string, number, string]>} */
  const counted = [
    ['ok', tally.ok, ''],
    ['failed', tally.failed, ''],
    ...kinds.map(
      ([kind, count]) => /** @type {[string, number, string]} */ ([`  ${kind}`, count, '']),
    ),
    ['written', tally.written, ` to ${run.out}`],
  ];
  const timed = [
    ['latency p50 / p95', `${formatMs(view.stats.p50Ms)} / ${formatMs(view.stats.p95Ms)}`],
    ['wall time', wallText(run.wallMs, n, run.concurrency, view.stats.p50Ms)],
  ];
  const width = Math.max(...[...counted, ...timed].map((r) => r[0].length));
  const lines = [`job ${view.id} ${view.status}: ${n} URLs`];
  for (const [label, count, tail] of counted) {
    lines.push(`  ${label.padEnd(width)}  ${String(count).padStart(6)}${tail}`);
  }
  for (const [label, text] of timed) lines.push(`  ${label.padEnd(width)}  ${text}`);
  if (run.interrupted) {
    lines.push(
      `interrupted: wrote the ${tally.written} Results settled before Ctrl-C;` +
        ` ${tally.dropped} URLs were cancelled and not written`,
    );
  }
  return lines;
}

/**
 * @param {number} wallMs @param {number} n @param {number} c @param {number | null} medianMs
 */
function wallText(wallMs, n, c, medianMs) {
  const floor = floorMs(n, c, medianMs);
  if (floor === null || floor <= 0) return formatMs(wallMs);
  const rounds = Math.ceil(n / Math.max(1, c));
  return (
    `${formatMs(wallMs)} = ${(wallMs / floor).toFixed(2)}x the floor ${formatMs(floor)}` +
    ` (ceil(${n}/${c}) = ${rounds} round(s) x p50 ${formatMs(medianMs)})`
  );
}
