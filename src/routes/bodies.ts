import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { bodyKey, SHA256_HEX } from '../bodies/keys';
import { ApiError } from '../middleware/errors';
import { coordinatorFor, found, ownerScope } from './job-stub';

export const bodyRoutes = new Hono<AppEnv>();

/**
 * A body the job stored (`store.bodies`), by its SHA-256: streamed from R2 as kept. The job is
 * asked first, with the caller as owner, so another key's job is a 404 like on every route
 * (and a purged job's leftovers, if any, are never served).
 */
bodyRoutes.get('/:id/bodies/:hash', async (c) => {
  const id = c.req.param('id');
  const hash = c.req.param('hash');
  const stub = coordinatorFor(c.env, id);
  if (!SHA256_HEX.test(hash)) {
    throw new ApiError('invalid_request', 'hash: expected 64 lowercase hex digits (a SHA-256)');
  }
  found(await stub.view(ownerScope(c)), id);
  const obj = await c.env.BODIES.get(bodyKey(id, hash));
  if (!obj) throw new ApiError('not_found', `job ${id} stored no body ${hash}`);
  return new Response(obj.body, {
    headers: {
      'content-type': obj.httpMetadata?.contentType ?? 'application/octet-stream',
      'content-length': String(obj.size),
      etag: `"${hash}"`,
      // The bytes under a hash never change; private: they belong to one caller's job.
      'cache-control': 'private, max-age=31536000, immutable',
      // Scraped pages are hostile: opened as a document, one runs no script and has no origin.
      'content-security-policy': "sandbox; default-src 'none'",
      'x-content-type-options': 'nosniff',
    },
  });
});
