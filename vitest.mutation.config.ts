// The test projects of `npm run mutation` (StrykerJS, see stryker.config.json); not used by
// `npm test`. The unit tests run under plain Node, which is quicker per mutant, except those
// that need workerd's globals (HTMLRewriter): those run in the workerd pool as in `npm test`.
// Stryker's vitest runner sets `pool` for every project; the Cloudflare plugin sets its own pool
// back in its configureVitest hook, which is what keeps the workerd project in workerd.
// test/worker and test/durable-objects stay out: they share one live origin whose counters
// would carry over from one mutant's run to the next.
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/** Unit tests that call HTMLRewriter (or other workerd-only globals, e.g. crypto.DigestStream). */
const WORKERD_ONLY = [
  'test/unit/extract.test.ts',
  'test/unit/extract-rewriter.test.ts',
  'test/unit/read-body.test.ts',
  'test/unit/fetch-page-stubbed.test.ts',
  'test/unit/content-hash.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/unit/**/*.test.ts'],
          exclude: WORKERD_ONLY,
        },
      },
      {
        plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
        test: { name: 'workerd', include: WORKERD_ONLY },
      },
    ],
  },
});
