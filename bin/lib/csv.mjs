// Results as CSV (RFC 4180): a header row, then one row per Result, CRLF line breaks, a field
// quoted when it holds a comma, a quote, CR or LF (its quotes doubled). The same bytes as the
// API's `?format=csv` (src/lib/csv.ts; test/node/run.test.mjs compares them): `run` formats
// Results itself because it counts them and leaves out the ones a Ctrl-C cancel makes.

/** The columns of every Result, before one `data.<name>` column per selector. */
export const CSV_COLUMNS = [
  'url',
  'finalUrl',
  'ok',
  'status',
  'contentType',
  'title',
  'links',
  'bytes',
  'attempts',
  'durationMs',
  'fetchedAt',
  'errorKind',
  'errorMessage',
  'contentHash',
  'notModified',
  'changed',
];

/**
 * One field: null and undefined are empty, everything else its text.
 * @param {unknown} value
 */
export function csvField(value) {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * @param {unknown[]} fields
 */
function row(fields) {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/**
 * The header row for a job extracting `selectors` (in the order given).
 * @param {string[]} selectors
 */
export function csvHeader(selectors) {
  return row([...CSV_COLUMNS, ...selectors.map((name) => `data.${name}`)]);
}

/**
 * One Result as a row under `csvHeader(selectors)`.
 * @param {import('./api.mjs').Result} r
 * @param {string[]} selectors
 */
export function csvRow(r, selectors) {
  return row([
    r.url,
    r.finalUrl,
    r.ok,
    r.status,
    r.contentType,
    r.title,
    r.links,
    r.bytes,
    r.attempts,
    r.durationMs,
    r.fetchedAt,
    r.error?.kind,
    r.error?.message,
    r.contentHash,
    r.notModified,
    r.changed,
    ...selectors.map((name) => r.data?.[name]),
  ]);
}
