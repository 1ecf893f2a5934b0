// The test origin's plain page routes (counted per tag): `/page`, `/fixture/NAME`, `/text`,
// `/json`, `/gzip`, `/echo-headers` and the `/bench/*` pages the benchmarks scrape.
import { gzipSync } from 'node:zlib';
import type { Call } from './counters.ts';
import { MAX_DELAY_MS, sleep, write } from './fault-routes.ts';
import { FIXTURES } from './fixtures.ts';
import { escapeHtml, HTML, intParam, send, simplePage } from './respond.ts';

// The bulk of a /bench page, built once: ~2 KB of realistic markup with 20 links.
const BENCH_BODY = (() => {
  let s =
    '<header><nav><a href="/bench/home">Home</a> <a href="/bench/about">About</a></nav></header>\n<main><article>\n';
  s +=
    '<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>\n';
  s += '<ul>\n';
  for (let i = 0; i < 18; i++)
    s += `<li><a href="/bench/item-${i}" class="item">Item number ${i}</a></li>\n`;
  s +=
    '</ul>\n<p>Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p>\n';
  s +=
    '</article></main>\n<footer><p>&copy; 2025 Bench Origin &middot; all rights reserved</p></footer>\n</body></html>\n';
  return s;
})();
const BENCH_HEAD =
  '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/static/site.css">\n<title>';

function benchPage(name: string): Buffer {
  return Buffer.from(
    `${BENCH_HEAD}Page ${escapeHtml(name)}</title></head>\n<body>\n${BENCH_BODY}`,
    'utf8',
  );
}

/** A page whose title is the request's headers named by `?h=a,b` (`name=value;...`, sorted). */
export function echoHeadersRoute({ req, res, url }: Call): void {
  const names = (url.searchParams.get('h') ?? '').split(',').filter((n) => n !== '');
  const seen = names
    .map((n) => n.toLowerCase())
    .sort()
    .map((n) => `${n}=${String(req.headers[n] ?? '')}`);
  send(res, 200, HTML, simplePage(seen.join(';')));
}

export function pageRoute({ res, url }: Call): void {
  const title = (url.searchParams.get('title') ?? 'Page').repeat(
    intParam(url, 'repeat', 1, 10_000),
  );
  send(res, 200, HTML, simplePage(title, '', intParam(url, 'links', 0, 100_000)));
}

export async function fixtureRoute({ res, path, url }: Call): Promise<void> {
  const fixture = FIXTURES[path.slice('/fixture/'.length)];
  if (!fixture) {
    send(res, 404, HTML, simplePage('No such fixture'));
    return;
  }
  const body = Buffer.from(fixture.body, 'latin1');
  // ?chunk=N: no Content-Length, and the body in N-byte writes 1 ms apart (a streamed read).
  const chunk = intParam(url, 'chunk', 0);
  if (chunk === 0) {
    send(res, 200, fixture.contentType, body);
    return;
  }
  res.writeHead(200, { 'Content-Type': fixture.contentType });
  for (let at = 0; at < body.length; at += chunk) {
    if (!(await write(res, body.subarray(at, at + chunk))) || !(await sleep(res, 1))) return;
  }
  res.end();
}

export function textRoute({ res }: Call): void {
  send(
    res,
    200,
    'text/plain; charset=utf-8',
    'Just some plain text.\n<title>not a title</title> <a href="/x">x</a>\n',
  );
}

export function jsonRoute({ res }: Call): void {
  send(
    res,
    200,
    'application/json',
    JSON.stringify({ title: 'not a title', links: ['<a href="/x">'] }),
  );
}

/** `/gzip?title=T&pad=N`: an HTML page sent gzip-encoded, N repetitions of filler text long. */
export function gzipRoute({ res, url }: Call): void {
  const title = url.searchParams.get('title') ?? 'Gzipped';
  const filler = `<p>${'caf\u00e9 gz '.repeat(intParam(url, 'pad', 0, 1_000_000))}</p>`;
  const page = Buffer.from(simplePage(title, filler), 'utf8');
  send(res, 200, HTML, gzipSync(page), { 'Content-Encoding': 'gzip' });
}

export async function benchRoute({ res, url, path, latencyMs }: Call): Promise<void> {
  const ms = intParam(url, 'ms', latencyMs, MAX_DELAY_MS);
  if (ms > 0 && !(await sleep(res, ms))) return;
  send(res, 200, HTML, benchPage(path.slice('/bench/'.length)));
}
