// Human-readable renderings of job views (status --short, watch, submit) and API keys (keys).

/** @typedef {import('./api.mjs').JobView} JobView */
/** @typedef {import('./api.mjs').KeyView} KeyView */

/**
 * How many URLs of the job have their Result: succeeded, failed or cancelled.
 * @param {JobView} view
 */
export function settledOf(view) {
  const c = view.counts;
  return c.succeeded + c.failed + c.cancelled;
}

/**
 * A duration for people: `850 ms`, `12.3 s`, `4m05s`, `2h10m`; `-` when there is none.
 * @param {number | null | undefined} ms
 */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A compact ETA: `7s`, `1m05s`, `2h10m`.
 * @param {number} ms
 */
export function formatEta(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 60_000) return `${Math.ceil(ms / 1000)}s`;
  return formatMs(ms);
}

/**
 * A byte count in binary units: `512 B`, `1.5 KB`, `3.2 MB`, `1.25 GB`.
 * @param {number} n
 */
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * One line: `ID running 30/50 settled (28 ok, 2 failed, 0 cancelled; 5 in flight, ...)`.
 * @param {JobView} view
 */
export function shortLine(view) {
  const c = view.counts;
  const active = [
    c.inFlight ? `${c.inFlight} in flight` : '',
    c.retrying ? `${c.retrying} retrying` : '',
    c.queued ? `${c.queued} queued` : '',
  ].filter(Boolean);
  const tail = active.length ? `; ${active.join(', ')}` : '';
  const deadline = view.deadlineAt ? ` deadline ${view.deadlineAt}` : '';
  return `${view.id} ${view.status} ${settledOf(view)}/${c.total} settled (${c.succeeded} ok, ${c.failed} failed, ${c.cancelled} cancelled${tail})${deadline}`;
}

/**
 * The closing summary of a job that ended.
 * @param {JobView} view
 */
export function summary(view) {
  const c = view.counts;
  const start = Date.parse(view.createdAt);
  const end = view.finishedAt ? Date.parse(view.finishedAt) : Number.NaN;
  const took = Number.isFinite(end - start) ? ` in ${formatMs(end - start)}` : '';
  const s = view.stats;
  return (
    `job ${view.id} ${view.status}${took}: ${c.succeeded} ok, ${c.failed} failed, ${c.cancelled} cancelled of ${c.total}` +
    ` (p50 ${formatMs(s.p50Ms)}, p95 ${formatMs(s.p95Ms)}, ${formatBytes(s.bytes)})`
  );
}

/**
 * Text from the API shown on one line: control characters (a newline in a key's name) become
 * spaces.
 * @param {string} text
 */
function oneLine(text) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the target
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/**
 * API keys as an aligned table with a header: id, name, limits, creation time.
 * @param {KeyView[]} keys
 * @returns {string[]}
 */
export function keyTable(keys) {
  const rows = [
    ['ID', 'NAME', 'MAX ACTIVE JOBS', 'MAX CONCURRENCY', 'CREATED'],
    ...keys.map((k) => [
      k.id,
      oneLine(k.name),
      String(k.maxActiveJobs),
      String(k.maxConcurrency),
      k.createdAt,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '),
  );
}

/**
 * A new key in one line: `key_... "name": maxActiveJobs 5, maxConcurrency 200`.
 * @param {KeyView} key
 */
export function keyLine(key) {
  return `${key.id} "${oneLine(key.name)}": maxActiveJobs ${key.maxActiveJobs}, maxConcurrency ${key.maxConcurrency}`;
}
