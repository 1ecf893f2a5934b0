import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { firstIssueMessage, type Issue } from '../jobs/schema';
import { readTextUpTo } from '../lib/text-body';
import { ApiError } from '../middleware/errors';

/**
 * The JSON body of a request (`what` names it in messages: "job", "schedule"): Content-Type
 * checked, refused above `maxBytes` (declared, or counted in bytes as it streams in), parsed.
 * Returns the text too (its hash is what makes a repeated job recognisable).
 */
export async function readJsonBody(
  c: Context<AppEnv>,
  what: string,
  maxBytes: number,
): Promise<{ text: string; body: unknown }> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(
      'unsupported_media_type',
      `send the ${what} as Content-Type: application/json`,
    );
  }
  const tooLarge = () => new ApiError('payload_too_large', `the body is over ${maxBytes} bytes`);
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) throw tooLarge();
  // A declared length is checked above, and HTTP framing holds the body to it: the runtime's
  // own reader is quicker. Only a body of unknown length is counted as it streams.
  let text: string;
  if (c.req.header('content-length')) text = await c.req.text();
  else {
    // One byte past the limit is enough to know the body is too large.
    const read = await readTextUpTo(c.req.raw.body, maxBytes + 1);
    if (read.cut) throw tooLarge();
    text = read.text;
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiError('invalid_request', `body is not valid JSON: ${(err as Error).message}`);
  }
  // Only a `\uD800`-style escape can put a lone surrogate in the parsed body (the text itself
  // was decoded from UTF-8), so bodies without one are not walked.
  const lone = SURROGATE_ESCAPE.test(text) ? loneSurrogateAt(body) : null;
  if (lone !== null) {
    const message = 'a lone surrogate (an unpaired \\uD800-\\uDFFF escape) is not text';
    throw new ApiError('invalid_request', `${lone}: ${message}`, [{ path: lone, message }]);
  }
  return { text, body };
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** With the `u` flag, a surrogate range matches only surrogates that are not in a pair. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** A value met in the walk below, with the way to it (paths are built only for a finding). */
interface Step {
  value: unknown;
  key: string | number | null;
  parent: Step | null;
}

/** `urls[2]`, `extract.selectors`: a path named the way validation names fields. */
function pathOf(step: Step): string {
  const parts: string[] = [];
  for (let s: Step | null = step; s && s.key !== null; s = s.parent) {
    parts.push(typeof s.key === 'number' ? `[${s.key}]` : `.${s.key}`);
  }
  return parts.reverse().join('').replace(/^\./, '') || '(body)';
}

/**
 * Where the body first holds a string or a field name with a lone surrogate (`urls[2]`,
 * `extract.selectors`), or null. Such text is refused: SQLite stores UTF-8, so it would be read
 * back as U+FFFD, not as what was accepted. Walked with a stack: nesting depth is unbounded.
 */
function loneSurrogateAt(body: unknown): string | null {
  const stack: Step[] = [{ value: body, key: null, parent: null }];
  for (let step = stack.pop(); step; step = stack.pop()) {
    const { value } = step;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return pathOf(step);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i], key: i, parent: step });
      }
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      if (entries.some(([k]) => LONE_SURROGATE.test(k))) return pathOf(step);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i] as [string, unknown];
        stack.push({ value: v, key: k, parent: step });
      }
    }
  }
  return null;
}

/** The invalid_request error for a body's issues, named by the first one. */
export function invalidBody(issues: Issue[], what: string): ApiError {
  return new ApiError('invalid_request', firstIssueMessage(issues, `invalid ${what}`), issues);
}
