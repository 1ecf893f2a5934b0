import type { Result } from '../jobs/types';

/**
 * Results as CSV (RFC 4180): a header row, then one row per Result, CRLF line breaks, a field
 * quoted when it holds a comma, a quote, CR or LF (its quotes doubled). Values are written as
 * they are: a spreadsheet that evaluates a cell starting with `=` does so on its own account.
 */
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
] as const;

/** One field: null and undefined are empty, everything else its text. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function row(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** The header row of a job extracting `selectors`: the columns, then `data.<name>` for each. */
export function csvHeader(selectors: readonly string[]): string {
  return row([...CSV_COLUMNS, ...selectors.map((name) => `data.${name}`)]);
}

/** One Result as a row under `csvHeader(selectors)`. */
export function csvRow(r: Result, selectors: readonly string[]): string {
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
