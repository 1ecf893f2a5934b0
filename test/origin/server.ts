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
 * The routes live in control-routes.ts (reading and resetting the counters), page-routes.ts
 * (plain pages), fault-routes.ts (delays, failures, redirects, robots.txt), browser-pages.ts and
 * versioned-pages.ts; this file routes each request to its handler and listens on every host.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { processesRoute, scriptPageRoute, serviceWorkerRoute } from './browser-pages.ts';
import {
  attemptsRoute,
  hookRoute,
  hooksRoute,
  openRoute,
  resetRoute,
  robotsAgentsRoute,
  robotsAnswerRoute,
  robotsCountRoute,
  robotsCrawlDelayRoute,
  statsRoute,
  timelineRoute,
} from './control-routes.ts';
import { type Call, Counters, type Handler } from './counters.ts';
import {
  bytesRoute,
  chainRoute,
  delayRoute,
  flakyRoute,
  gateRoute,
  hangRoute,
  loopRoute,
  notFoundRoute,
  privateRoute,
  redirectRoute,
  robotsRoute,
  slowBodyRoute,
  statusRoute,
} from './fault-routes.ts';
import {
  benchRoute,
  echoHeadersRoute,
  fixtureRoute,
  gzipRoute,
  jsonRoute,
  pageRoute,
  textRoute,
} from './page-routes.ts';
import { type Res, send } from './respond.ts';
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
