import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { configDefaults, defineConfig } from 'vitest/config';

/** The one test file that runs as deployed: private and loopback targets blocked. */
const PRIVATE_BLOCKED = 'test/worker/private-blocked.test.ts';
/** The one test file where finished jobs are deleted a second after they end. */
const RETENTION = 'test/worker/retention.test.ts';

/**
 * The Workers runtime for tests, with `ALLOW_PRIVATE_TARGETS` set to `allowPrivate` and any
 * `extra` bindings.
 */
function workers(allowPrivate: 'true' | 'false', extra: Record<string, string> = {}) {
  return cloudflareTest({
    wrangler: { configPath: './wrangler.toml' },
    miniflare: {
      bindings: {
        API_TOKEN: 'test-token',
        WEBHOOK_SECRET: 'test-webhook-secret',
        // Tests scrape the local origin of test/origin, so loopback targets are allowed
        // (but for PRIVATE_BLOCKED, which checks that a deployment refuses them).
        ALLOW_PRIVATE_TARGETS: allowPrivate,
        // Short leases so that tests of dead shards recover in seconds.
        SHARD_LEASE_MS: '2000',
        // Small chunks so that ending a job of a few hundred URLs takes several chunks.
        SETTLE_CHUNK_ROWS: '50',
        // Requests to sites carry it in their User-Agent (test/worker/user-agent.test.ts).
        USER_AGENT_CONTACT: 'https://ops.example/scrapers',
        ...extra,
      },
    },
  });
}

/** What both projects share. */
const shared = {
  globalSetup: ['./test/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 30_000,
};

export default defineConfig({
  test: {
    // CI asks for a JSON report too (its "N passed, N failed" line is read from it). Reporters
    // are global: one report covers both projects.
    reporters: process.env.VITEST_JSON_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON_REPORT
      ? { json: process.env.VITEST_JSON_REPORT }
      : undefined,
    projects: [
      {
        plugins: [workers('true')],
        test: {
          name: 'workers',
          // test/unit: pure logic, no bindings. test/worker: through the worker's handlers
          // against the local origin. test/durable-objects: Durable Objects driven directly
          // (runInDurableObject, alarms, aborts, RPC). The Node-side tests (test/node) run
          // under node --test instead.
          include: [
            'test/unit/**/*.test.ts',
            'test/worker/**/*.test.ts',
            'test/durable-objects/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, PRIVATE_BLOCKED, RETENTION],
          ...shared,
        },
      },
      {
        plugins: [workers('false')],
        test: { name: 'private-blocked', include: [PRIVATE_BLOCKED], ...shared },
      },
      {
        plugins: [workers('true', { JOB_RETENTION_SECONDS: '1' })],
        test: { name: 'retention', include: [RETENTION], ...shared },
      },
    ],
  },
});
