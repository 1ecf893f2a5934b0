import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env';
import { keyForToken } from '../keys/token-cache';
import { ADMIN_OWNER, type Caller } from '../keys/types';
import { sha256Hex } from '../lib/ids';
import { ApiError } from './errors';

/**
 * Bearer-token auth for /v1: API_TOKEN is the admin; any other token must be an API key's
 * (`c.var.caller` says which, with its limits). A deployment without API_TOKEN refuses to serve.
 */
export function bearerAuth(): MiddlewareHandler<AppEnv> {
  return async function bearerAuthMiddleware(c, next) {
    const expected = c.env.API_TOKEN;
    if (!expected) {
      throw new ApiError('unavailable', 'API_TOKEN is not configured on this deployment');
    }
    const header = c.req.header('authorization') ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    const caller = token ? await callerFor(c.env, token, expected) : null;
    if (!caller) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new ApiError('unauthorized', 'missing or invalid bearer token');
    }
    c.set('caller', caller);
    await next();
  };
}

/** Refuses a route to API keys: 403 `forbidden`. */
export function adminOnly(): MiddlewareHandler<AppEnv> {
  return async function adminOnlyMiddleware(c, next) {
    if (!c.var.caller.admin) throw new ApiError('forbidden', 'only the admin token may do this');
    await next();
  };
}

/** Who a token is: the admin, an API key, or nobody (null). */
async function callerFor(env: Env, token: string, adminToken: string): Promise<Caller | null> {
  if (await sameSecret(token, adminToken)) {
    return {
      owner: ADMIN_OWNER,
      admin: true,
      maxActiveJobs: Number.POSITIVE_INFINITY,
      maxConcurrency: Number.POSITIVE_INFINITY,
    };
  }
  const key = await keyForToken(await sha256Hex(token), (hash) =>
    env.KEY_STORE.getByName('all').byTokenHash(hash),
  );
  if (!key) return null;
  return {
    owner: key.id,
    admin: false,
    maxActiveJobs: key.maxActiveJobs,
    maxConcurrency: key.maxConcurrency,
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
