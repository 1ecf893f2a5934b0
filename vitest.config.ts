import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        // Tests scrape the local origin of test/origin, so loopback targets are allowed here.
        bindings: {
          API_TOKEN: 'test-token',
          WEBHOOK_SECRET: 'test-webhook-secret',
          ALLOW_PRIVATE_TARGETS: 'true',
          // Short leases so that tests of dead shards recover in seconds.
          SHARD_LEASE_MS: '2000',
          // Small chunks so that ending a job of a few hundred URLs takes several chunks.
          SETTLE_CHUNK_ROWS: '50',
        },
      },
    }),
  ],
  test: {
    // CI asks for a JSON report too (its "N passed, N failed" line is read from it).
    reporters: process.env.VITEST_JSON_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON_REPORT
      ? { json: process.env.VITEST_JSON_REPORT }
      : undefined,
    globalSetup: ['./test/global-setup.ts'],
    // test/unit: pure logic, no bindings. test/worker: through the worker's handlers against the
    // local origin. test/durable-objects: Durable Objects driven directly (runInDurableObject,
    // alarms, aborts, RPC). The Node-side tests (test/node) run under node --test instead.
    include: [
      'test/unit/**/*.test.ts',
      'test/worker/**/*.test.ts',
      'test/durable-objects/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
