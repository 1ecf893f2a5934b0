// Reading URL lists: one URL a line; blank lines and lines starting with `#` are skipped.
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/**
 * The URL on one line of a list, or null for a blank or comment line. A `#` later in the line
 * is kept: it can be part of the URL (a fragment).
 * @param {string} line
 * @returns {string | null}
 */
export function parseUrlLine(line) {
  const text = line.trim(); // also drops a byte-order mark and a CR left by CRLF files
  if (text === '' || text.startsWith('#')) return null;
  return text;
}

/**
 * Reads a URL list line by line from a stream.
 * @param {NodeJS.ReadableStream} input
 * @returns {Promise<{ urls: string[], lines: number[] }>} `lines[i]` is the line `urls[i]` came from
 */
export async function readUrlList(input) {
  /** @type {string[]} */
  const urls = [];
  /** @type {number[]} */
  const lines = [];
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of rl) {
    n++;
    const url = parseUrlLine(line);
    if (url !== null) {
      urls.push(url);
      lines.push(n);
    }
  }
  return { urls, lines };
}

/**
 * Reads a URL list from a file, or from stdin when `source` is `-`.
 * @param {string} source
 */
export async function readUrlSource(source) {
  if (source === '-') return readUrlList(process.stdin);
  const file = await open(source); // fails here, clearly, when the file is missing
  return readUrlList(file.createReadStream());
}

/**
 * The URLs of a job: `--url` values first, then the list in `source` (a file, or `-` for stdin).
 * `where[i]` says where `urls[i]` came from, to point at the line the server complains about.
 * @param {string[] | undefined} flagUrls
 * @param {string | undefined} source
 */
export async function gatherUrls(flagUrls, source) {
  const urls = [...(flagUrls ?? [])];
  const where = urls.map((_, i) => `--url #${i + 1}`);
  if (source !== undefined) {
    const list = await readUrlSource(source);
    const name = source === '-' ? 'stdin' : source;
    urls.push(...list.urls);
    where.push(...list.lines.map((line) => `${name} line ${line}`));
  }
  return { urls, where };
}

/**
 * Adds where a URL came from to an error about `urls[i]` (`... (urls.txt line 7)`).
 * @param {unknown} e
 * @param {string[]} where
 */
export function pointAtUrl(e, where) {
  if (!(e instanceof Error)) return;
  const m = /^urls\[(\d+)\]/.exec(e.message);
  const at = m ? where[Number(m[1])] : undefined;
  if (at) e.message += ` (${at})`;
}
