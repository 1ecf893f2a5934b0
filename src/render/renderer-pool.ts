/**
 * The Renderer instances of a deployment are a fixed pool, `browser-0` … `browser-<N-1>` with N
 * = MAX_BROWSERS, each holding at most one browser: so a deployment never holds more than N
 * browsers (Cloudflare limits concurrent browsers and new browsers per minute per account). A
 * job always goes to the same instance, so its renderConcurrency is counted in one place.
 */
import type { Renderer } from '../../durable-objects/renderer';

/** MAX_BROWSERS when the environment does not set it, or sets nonsense. */
export const DEFAULT_MAX_BROWSERS = 2;

/** What picking a job's renderer needs from the environment. */
export interface RendererEnv {
  RENDERER: DurableObjectNamespace<Renderer>;
  MAX_BROWSERS?: string;
}

/** The pool's size from MAX_BROWSERS: a positive integer, else the default. */
export function maxBrowsers(raw: string | undefined): number {
  const n = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isInteger(n) && n >= 1
    ? n
    : DEFAULT_MAX_BROWSERS;
}

/** FNV-1a (32 bits) of the string's UTF-16 code units: stable across isolates and deploys. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The name of the instance that renders `jobId`'s pages, in a pool of `browsers`. */
export function rendererName(jobId: string, browsers: number): string {
  return `browser-${fnv1a(jobId) % Math.max(1, Math.floor(browsers))}`;
}

/** The Renderer of `jobId`. */
export function rendererFor(env: RendererEnv, jobId: string) {
  return env.RENDERER.getByName(rendererName(jobId, maxBrowsers(env.MAX_BROWSERS)));
}
