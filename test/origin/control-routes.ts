// The test origin's control routes: they read or reset the counters (`/__stats`, `/__timeline`,
// `/__reset`, `/attempts`, the `/hook` receiver and `/__hooks`, the `/__open` gate, and the
// `/__robots*` settings of robots.txt) and are not counted themselves.
import type http from 'node:http';
import { type Call, newTagStats } from './counters.ts';
import { intParam, send } from './respond.ts';

export function statsRoute({ res, tag, counters }: Call): void {
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

export function timelineRoute({ res, tag, counters }: Call): void {
  send(res, 200, 'application/json', JSON.stringify(counters.statsFor(tag).timeline));
}

export function resetRoute({ res, tag, counters }: Call): void {
  counters.tags.delete(tag);
  send(res, 200, 'application/json', '{"ok":true}');
}

export function attemptsRoute({ res, url, tag, counters }: Call): void {
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
export async function hookRoute({ req, res, url, tag, counters }: Call): Promise<void> {
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

export function hooksRoute({ res, tag, counters }: Call): void {
  send(res, 200, 'application/json', JSON.stringify(counters.tags.get(tag)?.hooks ?? []));
}

/** Opens the tag's gate: its waiting `/gate` pages answer, and later ones answer at once. */
export function openRoute({ res, tag, counters }: Call): void {
  const s = counters.statsFor(tag);
  s.gateOpen = true;
  for (const release of s.gateWaiters) release();
  s.gateWaiters.clear();
  send(res, 200, 'application/json', '{"ok":true}');
}

/** robots.txt requests per host (`{"127.0.0.4:PORT": n}`). */
export function robotsCountRoute({ res, counters }: Call): void {
  send(res, 200, 'application/json', JSON.stringify(Object.fromEntries(counters.robotsRequests)));
}

/** The User-Agent of the last robots.txt request per host (`{"127.0.0.4:PORT": "..."}`). */
export function robotsAgentsRoute({ res, counters }: Call): void {
  send(res, 200, 'application/json', JSON.stringify(Object.fromEntries(counters.robotsAgents)));
}

/**
 * Sets what robots.txt answers on the host this request came to: `?status=503` makes it
 * answer 503; no status (or an empty one) gives back the normal file.
 */
export function robotsAnswerRoute({ req, res, url, counters }: Call): void {
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
export function robotsCrawlDelayRoute({ req, res, url, counters }: Call): void {
  const host = req.headers.host ?? '';
  const s = url.searchParams.get('s') ?? '';
  const agent = url.searchParams.get('agent') || '*';
  if (s !== '') counters.robotsCrawlDelay.set(host, { s, agent });
  else counters.robotsCrawlDelay.delete(host);
  send(res, 200, 'application/json', JSON.stringify({ host, s: s || null, agent }));
}
