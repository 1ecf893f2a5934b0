// The test origin's counters, per `?tag=` (so that parallel tests never see each other's
// traffic), and what a route handler is given.
import type http from 'node:http';
import type { Res } from './respond.ts';

const TIMELINE_MAX = 20_000;

export interface HostStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
}

export interface TagStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  aborted: number;
  byHost: Map<string, HostStats>;
  paths: Map<string, number>;
  keys: Map<string, number>;
  /** Requests per User-Agent header. */
  agents: Map<string, number>;
  /** Epoch ms of the first request and of the last response end. */
  firstAt: number;
  lastEndAt: number;
  /** Integral of inFlight over time (request-ms), updated at every change. */
  busyMs: number;
  changedAt: number;
  /** [start, end] epoch ms of the first TIMELINE_MAX requests, for `/__timeline`. */
  timeline: Array<[number, number]>;
  /** Requests `/hook` received, for `/__hooks`. */
  hooks: HookRecord[];
  /** Whether `/gate` pages answer (after `/__open`); until then they wait. */
  gateOpen: boolean;
  /** Releases the `/gate` requests waiting for `/__open`. */
  gateWaiters: Set<() => void>;
  /** The version of each `/versioned/NAME` page, by name (1 until `/__version` sets it). */
  versions: Map<string, number>;
  /** What the `/versioned/` pages were asked and answered, by path, for `/__stats`. */
  conditional: Map<string, ConditionalStats>;
}

/** Per `/versioned/` path: validators received, 304s and 200s sent, body bytes sent. */
interface ConditionalStats {
  ifNoneMatch: number;
  ifModifiedSince: number;
  notModified: number;
  ok: number;
  /** Bytes of the bodies sent, as sent (compressed with `gzip=1`). */
  bodyBytes: number;
}

/** One request to `/hook` (a callback receiver), as `/__hooks` returns it. */
interface HookRecord {
  method: string;
  /** Path and query it was sent to. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The status `/hook` answered. */
  status: number;
  /** Epoch ms when it arrived. */
  at: number;
}

export function newTagStats(): TagStats {
  return {
    requests: 0,
    inFlight: 0,
    maxInFlight: 0,
    aborted: 0,
    byHost: new Map(),
    paths: new Map(),
    keys: new Map(),
    agents: new Map(),
    firstAt: 0,
    lastEndAt: 0,
    busyMs: 0,
    changedAt: 0,
    timeline: [],
    hooks: [],
    gateOpen: false,
    gateWaiters: new Set(),
    versions: new Map(),
    conditional: new Map(),
  };
}

/** The origin's counters, per `?tag=`. */
export class Counters {
  readonly tags = new Map<string, TagStats>();
  /** robots.txt requests per Host header (robots.txt has no tag to count it under). */
  readonly robotsRequests = new Map<string, number>();
  /** The User-Agent of the last robots.txt request per Host header. */
  readonly robotsAgents = new Map<string, string>();
  /** The status robots.txt answers per Host header, when a test set one (`/__robots/answer`). */
  readonly robotsStatus = new Map<string, number>();
  /** The Crawl-delay robots.txt gives per Host header, and to which agent's group. */
  readonly robotsCrawlDelay = new Map<string, { s: string; agent: string }>();

  /** The stats of `tag`, created empty on first use. */
  statsFor(tag: string): TagStats {
    let s = this.tags.get(tag);
    if (!s) {
      s = newTagStats();
      this.tags.set(tag, s);
    }
    return s;
  }

  /** Counts a request under its tag and host until its response closes. */
  track(req: http.IncomingMessage, res: Res, url: URL, tag: string): void {
    const s = this.statsFor(tag);
    const host = req.headers.host ?? '';
    let h = s.byHost.get(host);
    if (!h) {
      h = { requests: 0, inFlight: 0, maxInFlight: 0 };
      s.byHost.set(host, h);
    }
    const hs = h;
    const accrue = (now: number) => {
      s.busyMs += s.inFlight * (now - s.changedAt);
      s.changedAt = now;
    };
    const start = Date.now();
    if (s.requests === 0) {
      s.firstAt = start;
      s.changedAt = start;
    }
    accrue(start);
    const span: [number, number] = [start, 0];
    if (s.timeline.length < TIMELINE_MAX) s.timeline.push(span);
    s.requests++;
    s.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    hs.requests++;
    hs.inFlight++;
    hs.maxInFlight = Math.max(hs.maxInFlight, hs.inFlight);
    s.paths.set(url.pathname, (s.paths.get(url.pathname) ?? 0) + 1);
    const agent = req.headers['user-agent'] ?? '';
    s.agents.set(agent, (s.agents.get(agent) ?? 0) + 1);
    const key = url.searchParams.get('key');
    if (key !== null) s.keys.set(key, (s.keys.get(key) ?? 0) + 1);
    res.once('close', () => {
      // A reset may have replaced the tag's stats meanwhile: only touch the object we counted in.
      const end = Date.now();
      accrue(end);
      s.lastEndAt = end;
      span[1] = end;
      s.inFlight--;
      hs.inFlight--;
      if (!res.writableFinished) s.aborted++;
    });
  }
}

/** One request as a route handler sees it. */
export interface Call {
  req: http.IncomingMessage;
  res: Res;
  url: URL;
  path: string;
  tag: string;
  counters: Counters;
  /** Default delay of the `/bench/*` pages. */
  latencyMs: number;
}

export type Handler = (c: Call) => void | Promise<void>;
