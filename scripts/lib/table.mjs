/**
 * The columns every benchmark table has after its first (what ran): the job and how it went
 * against its floor, so the service and the baselines read side by side.
 */
export const JOB_COLUMNS = ['N', 'C', 'latency', 'floor s', 'wall s', 'x floor', 'CPU s'];

/**
 * A plain-text table as the benchmarks print it: the first column left-aligned, the others
 * right-aligned, a rule of dashes under the head, two spaces between columns.
 * @param {string[]} head @param {string[][]} rows @returns {string[]} the lines
 */
export function tableLines(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (/** @type {string[]} */ cells) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}
