import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'internal'
  | 'unavailable';

export const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** An error the API reports in its envelope, with the status that matches its code. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly details: unknown[] | undefined;

  constructor(code: ErrorCode, message: string, details?: unknown[]) {
    super(STATUS[code], { message });
    this.code = code;
    this.details = details;
  }
}

/**
 * The one error renderer: `{"error": {code, message, details?}}` with the status of its code
 * (the envelope of docs/api.md, "Conventions"), never a stack trace.
 */
export function renderError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    const body: { code: ErrorCode; message: string; details?: unknown[] } = {
      code: err.code,
      message: err.message,
    };
    if (err.details) body.details = err.details;
    return c.json({ error: body }, err.status);
  }
  if (err instanceof HTTPException) {
    const code = (Object.keys(STATUS) as ErrorCode[]).find((k) => STATUS[k] === err.status);
    return c.json(
      { error: { code: code ?? 'invalid_request', message: err.message || 'request failed' } },
      err.status,
    );
  }
  console.error('unhandled error', err);
  return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
}
