import { disallowAll, parseRobots, type RobotsRules, rulesForStatus } from '../lib/robots';
import { readTextUpTo } from '../lib/text-body';
import { errorMessage } from './read-body';
import { redirectLocation } from './redirect';
import { userAgent } from './user-agent';

const MAX_ROBOTS_BYTES = 512 * 1024;

/** RFC 9309 2.3.1.2: at least five consecutive redirects are followed. */
const MAX_ROBOTS_REDIRECTS = 5;
/** What a robots.txt that is not there (4xx, too many redirects) means: no rules. */
const unavailable = (): RobotsRules => ({ allow: [], disallow: [] });

/**
 * Fetches and parses a host's robots.txt; errors and 5xx mean "disallow all" (RFC 9309).
 * `isBlocked` is the SSRF guard, applied to the first URL and every redirect hop: a blocked
 * host is never asked (no rules: its pages are refused as blocked targets themselves), and a
 * redirect into blocked space counts as unreachable, without a connection that could tell a
 * caller whether a private port is open.
 */
export async function fetchRobots(
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
  isBlocked?: (url: URL) => boolean,
  agent: string = userAgent(),
): Promise<RobotsRules> {
  let target = new URL(url);
  if (isBlocked?.(target)) return unavailable();
  try {
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    for (let hop = 0; ; hop++) {
      const res = await fetch(target.href, {
        redirect: 'manual',
        signal: timeout,
        headers: { 'user-agent': agent },
      });
      const next = redirectLocation(res, target);
      if (next === null) return await rulesOf(res, agent);
      await res.body?.cancel();
      if (hop >= MAX_ROBOTS_REDIRECTS) return unavailable();
      target = next;
      if (isBlocked?.(target)) return disallowAll('redirected to a blocked address');
    }
  } catch (err) {
    if (signal.aborted) return disallowAll('the run was stopped');
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    return disallowAll(timedOut ? `timed out after ${timeoutMs} ms` : errorMessage(err));
  }
}

/** The rules a final (not redirecting) robots.txt answer gives. */
async function rulesOf(res: Response, agent: string): Promise<RobotsRules> {
  const verdict = rulesForStatus(res.status);
  if (verdict !== 'fetch-body') {
    await res.body?.cancel();
    return verdict;
  }
  return parseRobots((await readTextUpTo(res.body, MAX_ROBOTS_BYTES)).text, agent);
}
