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
  try {
    return { text, body: JSON.parse(text) as unknown };
  } catch (err) {
    throw new ApiError('invalid_request', `body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The invalid_request error for a body's issues, named by the first one. */
export function invalidBody(issues: Issue[], what: string): ApiError {
  return new ApiError('invalid_request', firstIssueMessage(issues, `invalid ${what}`), issues);
}
