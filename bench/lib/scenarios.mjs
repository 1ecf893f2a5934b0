// The benchmark's scenarios (bench/README.md, "Scenarios"): each one job of N distinct pages
// against the local origin, its floor ceil(N / C) x latency, and its URLs.
import { ORIGIN_HOSTS } from '../../scripts/lib/harness.mjs';

/** @typedef {import('../../scripts/lib/harness.mjs').Origin} Origin */

/**
 * @typedef {{ name: string, n: number, latencyMs: number, concurrency: number,
 *   perHostConcurrency: number, hosts: string[], note: string }} Scenario
 */

/** @type {Record<string, Scenario>} */
export const SCENARIOS = {
  small: {
    name: 'small',
    n: 1_000,
    latencyMs: 250,
    concurrency: 50,
    perHostConcurrency: 50,
    hosts: ['127.0.0.1'],
    note: 'latency-bound; target <= 1.05x floor (runtime floor: npm run bench:floor)',
  },
  mid: {
    name: 'mid',
    n: 2_000,
    latencyMs: 100,
    concurrency: 100,
    perHostConcurrency: 100,
    hosts: ['127.0.0.1'],
    note: 'per-round cost; target <= 1.18x floor (the seed aiohttp scraper here)',
  },
  cpu: {
    name: 'cpu',
    n: 10_000,
    latencyMs: 50,
    concurrency: 200,
    perHostConcurrency: 200,
    hosts: ['127.0.0.1'],
    note: 'CPU-bound on 2 cores; beat aiohttp (4.3x floor, 10.7 s)',
  },
  big: {
    name: 'big',
    n: 100_000,
    latencyMs: 20,
    concurrency: 500,
    perHostConcurrency: 500,
    hosts: ['127.0.0.1'],
    note: 'ingest (POST round trip) < 2 s; completes; memory bounded',
  },
  hosts: {
    name: 'hosts',
    n: 2_000,
    latencyMs: 50,
    concurrency: 16,
    perHostConcurrency: 4,
    hosts: ORIGIN_HOSTS,
    note: 'per-host limit: origin maxInFlight per host must be <= 4',
  },
};
export const DEFAULT_SCENARIOS = ['small', 'hosts'];

/** @param {Scenario} s  ceil(N / effective C) x L, in ms. */
export function floorMs(s) {
  const effective = Math.min(s.concurrency, s.perHostConcurrency * s.hosts.length);
  return Math.ceil(s.n / effective) * s.latencyMs;
}

/**
 * The scenario's URLs: distinct /bench pages, spread over its hosts in turn.
 * @param {Scenario} s @param {Origin} origin @param {string} tag
 */
export function scenarioUrls(s, origin, tag) {
  const urls = new Array(s.n);
  for (let i = 0; i < s.n; i++) {
    const host = /** @type {string} */ (s.hosts[i % s.hosts.length]);
    urls[i] = `${origin.baseUrl(host)}/bench/${i}?tag=${tag}`;
  }
  return urls;
}
