import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env';
import { ApiError } from './errors';

/** Bearer-token auth for /v1: a deployment without API_TOKEN refuses to serve at all. */
export function bearerAuth(): MiddlewareHandler<AppEnv> {
  return async function bearerAuthMiddleware(c, next) {
    const expected = c.env.API_TOKEN;
    if (!expected) {
      throw new ApiError('unavailable', 'API_TOKEN is not configured on this deployment');
    }
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1] || !(await sameSecret(match[1].trim(), expected))) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new ApiError('unauthorized', 'missing or invalid bearer token');
    }
    await next();
  };
}

/** Constant-time comparison of two secrets (by their digests, so lengths leak nothing). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(a)),
    crypto.subtle.digest('SHA-256', enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
