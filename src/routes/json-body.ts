import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { firstIssueMessage, type Issue } from '../jobs/schema';
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
  const text = c.req.header('content-length')
    ? await c.req.text()
    : await readCapped(c.req.raw, maxBytes);
  if (text === null) throw tooLarge();
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

/**
 * The body as UTF-8 text, or null once it passes `maxBytes`: counted in bytes as it arrives,
 * so a body without Content-Length is never held past the limit.
 */
async function readCapped(req: Request, maxBytes: number): Promise<string | null> {
  if (req.body === null) return '';
  const reader = req.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
}
