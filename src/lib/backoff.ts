/** The longest wait we honour, whether from backoff or from a server's Retry-After (1 hour). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** The part of a job's retry settings that shapes delays. */
interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

// 2 ** 52 already exceeds any sane cap; stopping there keeps the product finite.
const MAX_EXPONENT = 52;

/** Full-jitter exponential backoff after `attempt` attempts (>= 1): uniform in [0, cap). */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(Math.floor(attempt) - 1, 0), MAX_EXPONENT) || 0;
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** exponent,
    Number.MAX_SAFE_INTEGER,
  );
  if (!(ceiling > 0)) return 0;
  // Clamp the random source so a misbehaving one cannot push us past the cap.
  const r = Math.min(Math.max(random(), 0), 1) || 0;
  // Floor, not round: the delay then stays strictly below the cap, as full jitter intends.
  return Math.min(Math.floor(r * ceiling), Math.floor(ceiling));
}

const DELTA_SECONDS = /^\d+$/;

/** Parses a Retry-After header (delta-seconds or HTTP-date) into ms from now, capped; null if unusable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (text === '') return null;
  if (DELTA_SECONDS.test(text)) {
    // Number() of a huge digit string is a huge float (or Infinity); the cap tames both.
    return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  }
  const at = parseHttpDate(text, nowMs);
  if (at === null) return null;
  return Math.min(Math.max(at - nowMs, 0), MAX_RETRY_AFTER_MS);
}

/** The delay before the next attempt: backoff, but never sooner than the server asked, capped. */
export function nextRetryDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const backoff = backoffDelayMs(attempt, policy, random);
  return Math.min(Math.max(backoff, retryAfterMs ?? 0), MAX_RETRY_AFTER_MS);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// RFC 9110 5.6.7: IMF-fixdate, the obsolete RFC 850 form, and asctime. Weekday names are not
// checked against the date: a wrong weekday is a server bug, not a reason to ignore the header.
const IMF_FIXDATE = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const RFC850_DATE = /^[a-z]{6,9}, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const ASCTIME_DATE = /^[a-z]{3} ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

// Date.parse accepts far too much ("-5", "1 2 3"), so the three grammar forms are matched exactly.
function parseHttpDate(text: string, nowMs: number): number | null {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(m[3], m[2], m[1], m[4], m[5], m[6]);
  m = RFC850_DATE.exec(text);
  if (m) {
    // RFC 9110: a two-digit year that looks more than 50 years ahead is in the past century.
    const yy = Number(m[3]);
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + yy;
    if (year > nowYear + 50) year -= 100;
    return utc(String(year), m[2], m[1], m[4], m[5], m[6]);
  }
  m = ASCTIME_DATE.exec(text);
  if (m) return utc(m[6], m[1], m[2], m[3], m[4], m[5]);
  return null;
}

function utc(
  year: string | undefined,
  month: string | undefined,
  day: string | undefined,
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
): number | null {
  const mon = MONTHS.indexOf((month ?? '').toLowerCase());
  const y = Number(year);
  const d = Number(day?.trim());
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  if (mon < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const ms = Date.UTC(y, mon, d, h, mi, Math.min(s, 59));
  // Date.UTC rolls "Feb 31" over into March; reject it instead.
  if (new Date(ms).getUTCDate() !== d) return null;
  return ms;
}
