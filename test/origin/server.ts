/**
 * The local test origin: a plain Node HTTP server that tests, benchmarks and the crash drill
 * scrape. Only erasable TypeScript syntax, so Node runs it directly with type stripping:
 *   node test/origin/server.ts --port 9999 --latency 250
 * Counters are kept per `?tag=` so that parallel tests do not see each other's traffic.
 * `/versioned/NAME` pages answer conditional requests (ETag, Last-Modified, 304) with content
 * whose version `/__version?name=NAME&v=N` changes, per tag; `/__stats` counts per path the
 * validators they received, the 304s and 200s sent and the body bytes (`conditional`).
 * `/script-page?title=T&links=N` is a page only a browser sees whole: its HTML has the title
 * "Not rendered" and no links; its inline script sets `document.title` to T and appends N links
 * (as `/page?title=T&links=N` has them in its HTML), after `&after=MS` ms if given. `&fetch=PATH`
 * makes the script also `fetch(PATH)` and `&img=PATH` adds `<img src=PATH>`: subresources a
 * renderer can let through or block, counted in `/__stats` like any page (PATH may name another
 * of the origin's hosts). `&ws=URL` makes the script open a WebSocket to URL (the origin counts
 * the handshake as a request to its path), `&sw=PATH` register PATH as a service worker (the
 * one of `/sw.js?fetch=URL&fetch=URL2` fetches each URL when it installs), `&alert=TEXT` open
 * an alert dialog before it renders, `&open=URL` open URL in a popup, and `&go=URL` navigate to
 * URL once it has rendered.
 * `/__processes?match=S` counts this machine's processes whose command line contains S (at
 * least 8 characters; Linux /proc, else `null`): the browser tests, which run inside workerd,
 * check through it that a closed browser session left no Chromium process behind.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { processesRoute, scriptPageRoute, serviceWorkerRoute } from './browser-pages.ts';
import { type Call, Counters, type Handler, newTagStats } from './counters.ts';
import { FIXTURES } from './fixtures.ts';
import { escapeHtml, HTML, intParam, type Res, send, simplePage } from './respond.ts';
import { versionedRoute, versionRoute } from './versioned-pages.ts';

export interface OriginOptions {
  /** Port to listen on; 0 or undefined picks a free one. */
  port?: number;
  /** Loopback addresses to listen on, all on the same port. */
  hosts?: string[];
  /** Default delay of the `/bench/*` pages. */
  latencyMs?: number;
}

export interface Origin {
  port: number;
  close(): Promise<void>;
  /** `http://HOST:PORT` for one of the hosts (the first by default). */
  baseUrl(host?: string): string;
}

/**
 * 127.0.0.5 is the host whose robots.txt tests make fail (`/__robots/answer`): no other test
 * fetches from it, so what it answers never reaches another test's job. 127.0.0.6 is the host
 * whose robots.txt User-Agent a test reads (`/__robots/agents`), likewise its own. 127.0.0.7 is
 * the host whose robots.txt tests give a Crawl-delay (`/__robots/crawl-delay`), likewise.
 */
export const DEFAULT_HOSTS = [
  '127.0.0.1',
  '127.0.0.2',
  '127.0.0.3',
  '127.0.0.4',
  '127.0.0.5',
  '127.0.0.6',
  '127.0.0.7',
];

const CHUNK = 64 * 1024;
const MAX_DELAY_MS = 10 * 60_000;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

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

const BYTES_PREFIX = '<!doctype html><html><head><title>Bytes</title></head><body><p>';
const BYTES_SUFFIX = '</p></body></html>';
const FILLER = Buffer.alloc(CHUNK, 'x');

/** Writes a chunk, waiting for drain; false when the client went away. */
async function write(res: Res, chunk: Buffer | string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  return !res.destroyed;
}

/** Resolves after ms, or early (with false) when the client goes away. */
function sleep(res: Res, ms: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

async function streamBytes(res: Res, n: number, chunked: boolean): Promise<void> {
  // With ?chunked=1 there is no Content-Length, so a client cannot refuse the body up front.
  res.writeHead(
    200,
    chunked ? { 'Content-Type': HTML } : { 'Content-Type': HTML, 'Content-Length': n },
  );
  const head = Buffer.from(BYTES_PREFIX);
  const tail = Buffer.from(BYTES_SUFFIX);
  if (n <= head.length + tail.length) {
    res.end(Buffer.concat([head, tail]).subarray(0, n));
    return;
  }
  let left = n - tail.length;
  let first = true;
  while (left > 0) {
    let chunk: Buffer;
    if (first) {
      const fill = Math.min(CHUNK - head.length, left - head.length);
      chunk = Buffer.concat([head, FILLER.subarray(0, fill)]);
      first = false;
    } else {
      chunk = FILLER.subarray(0, Math.min(CHUNK, left));
    }
    left -= chunk.length;
    if (!(await write(res, chunk))) return;
  }
  res.end(tail);
}

async function slowBody(res: Res, chunks: number, interval: number): Promise<void> {
  res.writeHead(200, { 'Content-Type': HTML });
  res.flushHeaders();
  if (!(await write(res, '<!doctype html><html><head><title>Slow body</title></head><body>\n')))
    return;
  for (let i = 0; i < chunks; i++) {
    if (!(await sleep(res, interval))) return;
    if (!(await write(res, `<p>chunk ${i}</p>\n`))) return;
  }
  res.end('</body></html>\n');
}

/** Keeps the query string (the tag) across redirects within the origin. */
function withQuery(path: string, url: URL): string {
  return url.search ? `${path}${url.search}` : path;
}

/** The value of a `Retry-After` header when `?retryAfter=` asks for one. */
function retryAfterHeader(url: URL): http.OutgoingHttpHeaders {
  const retryAfter = url.searchParams.get('retryAfter');
  return retryAfter !== null ? { 'Retry-After': retryAfter } : {};
}

// Control routes: they read or reset the counters and are not counted themselves.

function statsRoute({ res, tag, counters }: Call): void {
  const s = counters.tags.get(tag) ?? newTagStats();
  const byHost: Record<string, { requests: number; maxInFlight: number }> = {};
  for (const [h, v] of s.byHost) byHost[h] = { requests: v.requests, maxInFlight: v.maxInFlight };
  const body = {
    requests: s.requests,
    inFlight: s.inFlight,
    maxInFlight: s.maxInFlight,
    aborted: s.aborted,
    firstAt: s.firstAt,
    lastEndAt: s.lastEndAt,
    // Mean requests in flight between the first request and the last response.
    avgInFlight: s.lastEndAt > s.firstAt ? s.busyMs / (s.lastEndAt - s.firstAt) : 0,
    byHost,
    paths: Object.fromEntries(s.paths),
    agents: Object.fromEntries(s.agents),
    conditional: Object.fromEntries(s.conditional),
  };
  send(res, 200, 'application/json', JSON.stringify(body));
}

function timelineRoute({ res, tag, counters }: Call): void {
  send(res, 200, 'application/json', JSON.stringify(counters.statsFor(tag).timeline));
}

function resetRoute({ res, tag, counters }: Call): void {
  counters.tags.delete(tag);
  send(res, 200, 'application/json', '{"ok":true}');
}

function attemptsRoute({ res, url, tag, counters }: Call): void {
  const count = counters.tags.get(tag)?.keys.get(url.searchParams.get('key') ?? '') ?? 0;
  send(res, 200, 'application/json', JSON.stringify({ count }));
}

/** Reads the body of a request as text. */
async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A callback receiver: records the request under its tag (read back with `/__hooks`) and
 * answers `?status=` (200 by default); with `?fails=N` only the first N requests of the tag
 * get that status, the later ones 200.
 */
async function hookRoute({ req, res, url, tag, counters }: Call): Promise<void> {
  const body = await readBody(req);
  const hooks = counters.statsFor(tag).hooks;
  const asked = intParam(url, 'status', 200, 599);
  const fails = url.searchParams.get('fails');
  const failing = fails === null || hooks.length < intParam(url, 'fails', 0);
  const status = failing && asked >= 200 ? asked : 200;
  hooks.push({
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    body,
    status,
    at: Date.now(),
  });
  send(res, status, 'text/plain; charset=utf-8', `hook ${status}\n`);
}

function hooksRoute({ res, tag, counters }: Call): void {
  send(res, 200, 'application/json', JSON.stringify(counters.tags.get(tag)?.hooks ?? []));
}

/** Opens the tag's gate: its waiting `/gate` pages answer, and later ones answer at once. */
function openRoute({ res, tag, counters }: Call): void {
  const s = counters.statsFor(tag);
  s.gateOpen = true;
  for (const release of s.gateWaiters) release();
  s.gateWaiters.clear();
  send(res, 200, 'application/json', '{"ok":true}');
}

/** robots.txt requests per host (`{"127.0.0.4:PORT": n}`). */
function robotsCountRoute({ res, counters }: Call): void {
  send(res, 200, 'application/json', JSON.stringify(Object.fromEntries(counters.robotsRequests)));
}

/** The User-Agent of the last robots.txt request per host (`{"127.0.0.4:PORT": "..."}`). */
function robotsAgentsRoute({ res, counters }: Call): void {
  send(res, 200, 'application/json', JSON.stringify(Object.fromEntries(counters.robotsAgents)));
}

/**
 * Sets what robots.txt answers on the host this request came to: `?status=503` makes it
 * answer 503; no status (or an empty one) gives back the normal file.
 */
function robotsAnswerRoute({ req, res, url, counters }: Call): void {
  const host = req.headers.host ?? '';
  const status = intParam(url, 'status', 0, 599);
  if (status >= 200) counters.robotsStatus.set(host, status);
  else counters.robotsStatus.delete(host);
  send(
    res,
    200,
    'application/json',
    JSON.stringify({ host, status: status >= 200 ? status : null }),
  );
}

/**
 * Sets the Crawl-delay robots.txt gives on the host this request came to: `?s=0.4` puts
 * `Crawl-delay: 0.4` in the `*` group, or with `&agent=otherbot` in a group of that agent
 * only; no `s` (or an empty one) gives back the normal file.
 */
function robotsCrawlDelayRoute({ req, res, url, counters }: Call): void {
  const host = req.headers.host ?? '';
  const s = url.searchParams.get('s') ?? '';
  const agent = url.searchParams.get('agent') || '*';
  if (s !== '') counters.robotsCrawlDelay.set(host, { s, agent });
  else counters.robotsCrawlDelay.delete(host);
  send(res, 200, 'application/json', JSON.stringify({ host, s: s || null, agent }));
}

// Page routes: what the tests, benchmarks and the drill scrape (counted per tag).

/** A page whose title is the request's headers named by `?h=a,b` (`name=value;...`, sorted). */
function echoHeadersRoute({ req, res, url }: Call): void {
  const names = (url.searchParams.get('h') ?? '').split(',').filter((n) => n !== '');
  const seen = names
    .map((n) => n.toLowerCase())
    .sort()
    .map((n) => `${n}=${String(req.headers[n] ?? '')}`);
  send(res, 200, HTML, simplePage(seen.join(';')));
}

function pageRoute({ res, url }: Call): void {
  const title = (url.searchParams.get('title') ?? 'Page').repeat(
    intParam(url, 'repeat', 1, 10_000),
  );
  send(res, 200, HTML, simplePage(title, '', intParam(url, 'links', 0, 100_000)));
}

async function fixtureRoute({ res, path, url }: Call): Promise<void> {
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

function textRoute({ res }: Call): void {
  send(
    res,
    200,
    'text/plain; charset=utf-8',
    'Just some plain text.\n<title>not a title</title> <a href="/x">x</a>\n',
  );
}

function jsonRoute({ res }: Call): void {
  send(
    res,
    200,
    'application/json',
    JSON.stringify({ title: 'not a title', links: ['<a href="/x">'] }),
  );
}

/** `/gzip?title=T&pad=N`: an HTML page sent gzip-encoded, N repetitions of filler text long. */
function gzipRoute({ res, url }: Call): void {
  const title = url.searchParams.get('title') ?? 'Gzipped';
  const filler = `<p>${'caf\u00e9 gz '.repeat(intParam(url, 'pad', 0, 1_000_000))}</p>`;
  const page = Buffer.from(simplePage(title, filler), 'utf8');
  send(res, 200, HTML, gzipSync(page), { 'Content-Encoding': 'gzip' });
}

async function delayRoute({ res, url }: Call): Promise<void> {
  const ms = intParam(url, 'ms', 0, MAX_DELAY_MS);
  if (await sleep(res, ms)) send(res, 200, HTML, simplePage(`Delayed ${ms} ms`));
}

async function benchRoute({ res, url, path, latencyMs }: Call): Promise<void> {
  const ms = intParam(url, 'ms', latencyMs, MAX_DELAY_MS);
  if (ms > 0 && !(await sleep(res, ms))) return;
  send(res, 200, HTML, benchPage(path.slice('/bench/'.length)));
}

function hangRoute(): void {
  // Never answers: the request ends when the client gives up (counted in `aborted`).
}

/** Waits until the tag's gate is opened (`/__open`), then answers a page; at once if open. */
async function gateRoute({ res, url, tag, counters }: Call): Promise<void> {
  const s = counters.statsFor(tag);
  if (!s.gateOpen) {
    const open = await new Promise<boolean>((resolve) => {
      const release = (): void => {
        res.off('close', gone);
        resolve(true);
      };
      const gone = (): void => {
        s.gateWaiters.delete(release);
        resolve(false);
      };
      s.gateWaiters.add(release);
      res.once('close', gone);
    });
    if (!open || res.destroyed) return;
  }
  send(res, 200, HTML, simplePage(url.searchParams.get('title') ?? 'Gate'));
}

async function slowBodyRoute({ res, url }: Call): Promise<void> {
  await slowBody(
    res,
    intParam(url, 'chunks', 10, 10_000),
    intParam(url, 'interval', 100, MAX_DELAY_MS),
  );
}

function statusRoute({ res, url, path }: Call): void {
  const code = Number(path.slice('/status/'.length));
  if (!Number.isInteger(code) || code < 200 || code > 599) {
    send(res, 400, HTML, simplePage('Bad status code'));
    return;
  }
  const headers = retryAfterHeader(url);
  if (code === 204 || code === 304) {
    res.writeHead(code, headers);
    res.end();
    return;
  }
  send(res, code, HTML, simplePage(`Status ${code}`), headers);
}

async function bytesRoute({ res, url }: Call): Promise<void> {
  await streamBytes(res, intParam(url, 'n', 1024), url.searchParams.get('chunked') === '1');
}

function redirectRoute({ res, url }: Call): void {
  const to = url.searchParams.get('to') ?? '/page';
  const code = intParam(url, 'code', 302);
  send(res, REDIRECT_CODES.has(code) ? code : 302, HTML, simplePage('Redirecting'), {
    Location: to,
  });
}

function chainRoute({ res, url, path }: Call): void {
  const n = Number(path.slice('/chain/'.length));
  if (!Number.isInteger(n) || n < 0) {
    send(res, 400, HTML, simplePage('Bad chain length'));
    return;
  }
  if (n === 0) {
    send(res, 200, HTML, simplePage('End of chain'));
    return;
  }
  send(res, 302, HTML, simplePage('Redirecting'), {
    Location: withQuery(`/chain/${n - 1}`, url),
  });
}

function loopRoute({ res, url, path }: Call): void {
  const next = path === '/loop/a' ? '/loop/b' : '/loop/a';
  send(res, 302, HTML, simplePage('Looping'), { Location: withQuery(next, url) });
}

function flakyRoute({ res, url, tag, counters }: Call): void {
  const key = url.searchParams.get('key') ?? '';
  const seen = counters.statsFor(tag).keys.get(key) ?? 0; // this request included
  const fails = intParam(url, 'fails', 1);
  if (seen <= fails) {
    const code = intParam(url, 'code', 503);
    send(
      res,
      code >= 400 && code <= 599 ? code : 503,
      HTML,
      simplePage(`Failure ${seen}`),
      retryAfterHeader(url),
    );
    return;
  }
  send(res, 200, HTML, simplePage(`Flaky ${key} ok`, '', 3));
}

function robotsRoute({ req, res, counters }: Call): void {
  const host = req.headers.host ?? '';
  counters.robotsRequests.set(host, (counters.robotsRequests.get(host) ?? 0) + 1);
  counters.robotsAgents.set(host, req.headers['user-agent'] ?? '');
  const status = counters.robotsStatus.get(host);
  if (status !== undefined) {
    send(res, status, 'text/plain; charset=utf-8', `robots.txt answers ${status} here\n`);
    return;
  }
  const delay = counters.robotsCrawlDelay.get(host);
  const ours = delay?.agent === '*' ? `Crawl-delay: ${delay.s}\n` : '';
  const theirs =
    delay && delay.agent !== '*' ? `User-agent: ${delay.agent}\nCrawl-delay: ${delay.s}\n\n` : '';
  const body = `${theirs}User-agent: *\n${ours}Disallow: /private/\n`;
  send(res, 200, 'text/plain; charset=utf-8', body);
}

function privateRoute({ res }: Call): void {
  send(res, 200, HTML, simplePage('Private page', '', 1));
}

function notFoundRoute({ res }: Call): void {
  send(res, 404, HTML, simplePage('Not found'));
}

/** Routes by exact path that are not counted: they read or reset the counters. */
const CONTROL_ROUTES = new Map<string, Handler>([
  ['/__stats', statsRoute],
  ['/__timeline', timelineRoute],
  ['/__reset', resetRoute],
  ['/attempts', attemptsRoute],
  ['/hook', hookRoute],
  ['/__hooks', hooksRoute],
  ['/__open', openRoute],
  ['/__robots', robotsCountRoute],
  ['/__robots/answer', robotsAnswerRoute],
  ['/__robots/agents', robotsAgentsRoute],
  ['/__robots/crawl-delay', robotsCrawlDelayRoute],
  ['/__version', versionRoute],
  ['/__processes', processesRoute],
]);

/** Counted routes by exact path. */
const PAGE_ROUTES = new Map<string, Handler>([
  ['/page', pageRoute],
  ['/script-page', scriptPageRoute],
  ['/sw.js', serviceWorkerRoute],
  ['/echo-headers', echoHeadersRoute],
  ['/text', textRoute],
  ['/json', jsonRoute],
  ['/gzip', gzipRoute],
  ['/delay', delayRoute],
  ['/hang', hangRoute],
  ['/gate', gateRoute],
  ['/slow-body', slowBodyRoute],
  ['/bytes', bytesRoute],
  ['/redirect', redirectRoute],
  ['/loop/a', loopRoute],
  ['/loop/b', loopRoute],
  ['/flaky', flakyRoute],
  ['/robots.txt', robotsRoute],
]);

/** Counted routes by path prefix, for the paths no exact route has. */
const PREFIX_ROUTES: Array<[string, Handler]> = [
  ['/fixture/', fixtureRoute],
  ['/bench/', benchRoute],
  ['/status/', statusRoute],
  ['/chain/', chainRoute],
  ['/private/', privateRoute],
  ['/versioned/', versionedRoute],
];

/** The handler of a counted path: exact routes first, then prefixes, else 404. */
function pageHandler(path: string): Handler {
  const exact = PAGE_ROUTES.get(path);
  if (exact) return exact;
  for (const [prefix, handler] of PREFIX_ROUTES) if (path.startsWith(prefix)) return handler;
  return notFoundRoute;
}

/** Answers one request: control routes as they are, every other one counted first. */
async function handle(
  req: http.IncomingMessage,
  res: Res,
  counters: Counters,
  latencyMs: number,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://origin.invalid');
  const tag = url.searchParams.get('tag') ?? '';
  const path = url.pathname;
  const call: Call = { req, res, url, path, tag, counters, latencyMs };
  const control = CONTROL_ROUTES.get(path);
  if (control) {
    await control(call);
    return;
  }
  counters.track(req, res, url, tag);
  await pageHandler(path)(call);
}

/** HTTP servers on one port, one per loopback host. */
class Listeners {
  readonly #servers: http.Server[] = [];
  readonly #listener: http.RequestListener;

  constructor(listener: http.RequestListener) {
    this.#listener = listener;
  }

  /** Listens on host:port (0: any free port) and resolves to the port. */
  listen(host: string, port: number): Promise<number> {
    const server = http.createServer({ keepAlive: true }, this.#listener);
    server.keepAliveTimeout = 30_000;
    server.headersTimeout = 35_000;
    server.requestTimeout = 0;
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  async closeAll(): Promise<void> {
    const all = this.#servers.splice(0);
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) {
              resolve();
              return;
            }
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }
}

/** Starts the origin on every host, on one shared port. */
export async function startOrigin(opts: OriginOptions = {}): Promise<Origin> {
  const hosts = opts.hosts && opts.hosts.length > 0 ? opts.hosts : DEFAULT_HOSTS;
  const latencyMs = opts.latencyMs ?? 0;
  const counters = new Counters();

  const listeners = new Listeners((req, res) => {
    handle(req, res, counters, latencyMs).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', String(err));
      else res.destroy();
    });
  });
  const closeAll = (): Promise<void> => listeners.closeAll();

  let port = opts.port ?? 0;
  // With an ephemeral port, another process may hold it on a later host: retry a few times.
  for (let attempt = 0; ; attempt++) {
    try {
      const [first, ...rest] = hosts;
      port = await listeners.listen(first ?? '127.0.0.1', opts.port ?? 0);
      for (const host of rest) await listeners.listen(host, port);
      break;
    } catch (err) {
      await closeAll();
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!inUse || opts.port || attempt >= 4) throw err;
    }
  }

  return {
    port,
    close: closeAll,
    baseUrl: (host?: string) => `http://${host ?? hosts[0] ?? '127.0.0.1'}:${port}`,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      latency: { type: 'string', default: '0' },
      hosts: { type: 'string' },
    },
  });
  const origin = await startOrigin({
    port: Number(values.port),
    latencyMs: Number(values.latency),
    hosts: values.hosts ? values.hosts.split(',') : undefined,
  });
  console.log(`origin listening on ${origin.baseUrl()}`);
  const stop = (): void => {
    void origin.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
