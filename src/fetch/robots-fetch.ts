import { parseRobots, type RobotsRules, rulesForStatus } from '../lib/robots';

const MAX_ROBOTS_BYTES = 512 * 1024;

/** Fetches and parses a host's robots.txt; errors and 5xx mean "disallow all" (RFC 9309). */
export async function fetchRobots(
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<RobotsRules> {
  try {
    const res = await fetch(url, {
      redirect: 'follow',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    const verdict = rulesForStatus(res.status);
    if (verdict !== 'fetch-body') {
      await res.body?.cancel();
      return verdict;
    }
    return parseRobots(await readTextCapped(res, MAX_ROBOTS_BYTES));
  } catch {
    return { allow: [], disallow: ['/'] };
  }
}

async function readTextCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (bytes >= max) {
      await reader.cancel();
      break;
    }
  }
  return text + decoder.decode();
}
