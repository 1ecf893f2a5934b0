/** Rules from the robots.txt group that applies to us; plain arrays so they store as JSON. */
export interface RobotsRules {
  allow: string[];
  disallow: string[];
  /**
   * Why robots.txt could not be read, when it could not (then everything is disallowed):
   * "HTTP 503", "timed out", ... The Results it refuses say so rather than "disallowed".
   */
  unreachable?: string;
  /** The group's `Crawl-delay` in ms (at most MAX_CRAWL_DELAY_MS), when it gives one above 0. */
  crawlDelayMs?: number;
}

/** The product token we look for in `User-agent` lines. */
const ROBOTS_USER_AGENT = 'scrape-fanout';

/** RFC 9309 2.5 asks crawlers to parse at least 500 KiB; we parse no more than that. */
export const MAX_ROBOTS_CHARS = 500 * 1024;
/** Bound on each rule list, so one hostile file cannot bloat stored state or matching time. */
export const MAX_ROBOTS_RULES = 1000;
/** A `Crawl-delay` is honoured up to a minute: a larger one would stall a job for hours. */
export const MAX_CRAWL_DELAY_MS = 60_000;

interface Group {
  agents: string[];
  allow: string[];
  disallow: string[];
  /** Seconds; the largest of the group's `Crawl-delay` lines, 0 without one. */
  crawlDelay: number;
}

/** Parses robots.txt text into the rules for `userAgent` (its own groups, else the `*` groups). */
export function parseRobots(text: string, userAgent = ROBOTS_USER_AGENT): RobotsRules {
  const ours = productToken(userAgent);
  const groups: Group[] = [];
  let current: Group | null = null;
  // A user-agent line right after another one extends the same group (RFC 9309 2.1).
  let inAgentLines = false;

  for (const line of boundedLines(text)) {
    const record = parseLine(line);
    if (record === null) continue;
    const { key, value } = record;
    if (key === 'user-agent') {
      if (current === null || !inAgentLines) {
        current = { agents: [], allow: [], disallow: [], crawlDelay: 0 };
        groups.push(current);
      }
      current.agents.push(value === '*' ? '*' : productToken(value));
      inAgentLines = true;
    } else if (key === 'allow' || key === 'disallow') {
      inAgentLines = false;
      // Rules before any user-agent line belong to no group; an empty rule matches nothing.
      if (current === null || value === '') continue;
      current[key].push(normalizePattern(value));
    } else if (key === 'crawl-delay') {
      // A member of the group like a rule (as in urllib.robotparser): it ends the agent lines.
      inAgentLines = false;
      if (current !== null) current.crawlDelay = Math.max(current.crawlDelay, seconds(value));
    }
    // Other records (sitemap, ...) neither end a group nor carry rules for us.
  }

  const specific = groups.filter((g) => ours !== '' && g.agents.includes(ours));
  const chosen = specific.length > 0 ? specific : groups.filter((g) => g.agents.includes('*'));
  const rules: RobotsRules = {
    allow: chosen.flatMap((g) => g.allow).slice(0, MAX_ROBOTS_RULES),
    disallow: chosen.flatMap((g) => g.disallow).slice(0, MAX_ROBOTS_RULES),
  };
  const delay = chosen.reduce((max, g) => Math.max(max, g.crawlDelay), 0);
  const delayMs = Math.min(MAX_CRAWL_DELAY_MS, Math.round(delay * 1000));
  if (delayMs > 0) rules.crawlDelayMs = delayMs;
  return rules;
}

/** A `Crawl-delay` value in seconds (decimals allowed); 0 for anything else. */
function seconds(value: string): number {
  return /^(\d+\.?\d*|\.\d+)$/.test(value) ? Number(value) : 0;
}

/** Whether the rules let us fetch `pathAndQuery`: longest match wins, allow wins a tie. */
export function isAllowed(rules: RobotsRules, pathAndQuery: string): boolean {
  const path = pathAndQuery === '' ? '/' : pathAndQuery;
  // RFC 9309 2.2.2: the robots.txt file itself is implicitly allowed.
  if (path === '/robots.txt' || path.startsWith('/robots.txt?')) return true;
  if (rules.disallow.length === 0) return true;
  const disallowed = longestMatch(rules.disallow, path);
  if (disallowed < 0) return true;
  return longestMatch(rules.allow, path) >= disallowed;
}

/** RFC 9309 2.3.1: what a robots.txt status means before (or instead of) reading its body. */
export function rulesForStatus(status: number): RobotsRules | 'fetch-body' {
  if (status >= 200 && status < 300) return 'fetch-body';
  // 429 is a 4xx, but it asks us to back off; like Google we treat it as unreachable.
  if (status === 429) return disallowAll(`HTTP ${status}`);
  // "Unavailable": 4xx, and a 3xx that fetch could not follow (too many redirects).
  if (status >= 300 && status < 500) return { allow: [], disallow: [] };
  // 5xx, 1xx, and 0 for a network failure: assume complete disallow.
  return disallowAll(status === 0 ? 'no answer' : `HTTP ${status}`);
}

/** Complete disallow, because robots.txt could not be read (`why`). */
export function disallowAll(why: string): RobotsRules {
  return { allow: [], disallow: ['/'], unreachable: why };
}

function* boundedLines(text: string): Generator<string> {
  let body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.length > MAX_ROBOTS_CHARS) {
    // Drop the cut-off last line: "Allow: /public-only" cut to "Allow: /" would allow everything.
    body = body.slice(0, MAX_ROBOTS_CHARS);
    const end = Math.max(body.lastIndexOf('\n'), body.lastIndexOf('\r'));
    body = end >= 0 ? body.slice(0, end) : '';
  }
  yield* body.split(/\r\n|\r|\n/);
}

function parseLine(line: string): { key: string; value: string } | null {
  const hash = line.indexOf('#');
  const content = hash >= 0 ? line.slice(0, hash) : line;
  const colon = content.indexOf(':');
  if (colon < 0) return null;
  return {
    key: content.slice(0, colon).trim().toLowerCase(),
    value: content.slice(colon + 1).trim(),
  };
}

// The product token is the leading run of letters, "_" and "-" ("Googlebot/2.1" -> "googlebot").
function productToken(agent: string): string {
  return (/^[a-z_-]+/i.exec(agent.trim())?.[0] ?? '').toLowerCase();
}

function normalizePattern(pattern: string): string {
  // Repeated "*" match the same as one and only slow matching down.
  const collapsed = pattern.replace(/\*+/g, '*');
  // Paths come percent-encoded from the URL parser; encode raw non-ASCII in rules to match them.
  return collapsed.replace(/[\u0080-\u{10ffff}]+/gu, encodeNonAscii);
}

function encodeNonAscii(chars: string): string {
  try {
    return encodeURIComponent(chars);
  } catch {
    // A lone surrogate cannot be encoded; leave it as written (it will simply never match).
    return chars;
  }
}

function longestMatch(patterns: readonly string[], path: string): number {
  let best = -1;
  for (const pattern of patterns) {
    if (pattern.length > best && matches(pattern, path)) best = pattern.length;
  }
  return best;
}

// Glob match where "*" is any run of characters and a final "$" anchors the end; without "$"
// a pattern is a prefix. Greedy with one backtrack point: linear in practice, no regex blow-up.
function matches(pattern: string, path: string): boolean {
  const anchored = pattern.endsWith('$');
  const pat = anchored ? pattern.slice(0, -1) : pattern;
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = 0;
  while (s < path.length) {
    if (p === pat.length && !anchored) return true;
    if (p < pat.length && pat[p] === '*') {
      starP = p++;
      starS = s;
    } else if (p < pat.length && pat[p] === path[s]) {
      p++;
      s++;
    } else if (starP >= 0) {
      p = starP + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (p < pat.length && pat[p] === '*') p++;
  return p === pat.length;
}
