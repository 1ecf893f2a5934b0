// The test origin's fault and timing routes (counted per tag): delays, a page that never
// answers, a gate, slow and large bodies, status codes, redirects and loops, flaky pages,
// robots.txt, `/private/` and the 404 page; and the helpers that stream and wait.
import type http from 'node:http';
import type { Call } from './counters.ts';
import { HTML, intParam, type Res, send, simplePage } from './respond.ts';

export const CHUNK = 64 * 1024;
export const MAX_DELAY_MS = 10 * 60_000;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

const BYTES_PREFIX = '<!doctype html><html><head><title>Bytes</title></head><body><p>';
const BYTES_SUFFIX = '</p></body></html>';
const FILLER = Buffer.alloc(CHUNK, 'x');

/** Writes a chunk, waiting for drain; false when the client went away. */
export async function write(res: Res, chunk: Buffer | string): Promise<boolean> {
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
export function sleep(res: Res, ms: number): Promise<boolean> {
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

export async function delayRoute({ res, url }: Call): Promise<void> {
  const ms = intParam(url, 'ms', 0, MAX_DELAY_MS);
  if (await sleep(res, ms)) send(res, 200, HTML, simplePage(`Delayed ${ms} ms`));
}

export function hangRoute(): void {
  // Never answers: the request ends when the client gives up (counted in `aborted`).
}

/** Waits until the tag's gate is opened (`/__open`), then answers a page; at once if open. */
export async function gateRoute({ res, url, tag, counters }: Call): Promise<void> {
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

export async function slowBodyRoute({ res, url }: Call): Promise<void> {
  await slowBody(
    res,
    intParam(url, 'chunks', 10, 10_000),
    intParam(url, 'interval', 100, MAX_DELAY_MS),
  );
}

export function statusRoute({ res, url, path }: Call): void {
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

export async function bytesRoute({ res, url }: Call): Promise<void> {
  await streamBytes(res, intParam(url, 'n', 1024), url.searchParams.get('chunked') === '1');
}

export function redirectRoute({ res, url }: Call): void {
  const to = url.searchParams.get('to') ?? '/page';
  const code = intParam(url, 'code', 302);
  send(res, REDIRECT_CODES.has(code) ? code : 302, HTML, simplePage('Redirecting'), {
    Location: to,
  });
}

export function chainRoute({ res, url, path }: Call): void {
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

export function loopRoute({ res, url, path }: Call): void {
  const next = path === '/loop/a' ? '/loop/b' : '/loop/a';
  send(res, 302, HTML, simplePage('Looping'), { Location: withQuery(next, url) });
}

export function flakyRoute({ res, url, tag, counters }: Call): void {
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

export function robotsRoute({ req, res, counters }: Call): void {
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

export function privateRoute({ res }: Call): void {
  send(res, 200, HTML, simplePage('Private page', '', 1));
}

export function notFoundRoute({ res }: Call): void {
  send(res, 404, HTML, simplePage('Not found'));
}
