#!/usr/bin/env node
// `npm start`: the API on http://127.0.0.1:$PORT (default 8787) through `wrangler dev`, with
// local state persisted in .wrangler/state. Local-only defaults: API_TOKEN=dev-token and
// ALLOW_PRIVATE_TARGETS=true (so a local origin can be scraped), unless .dev.vars sets them.
// Extra arguments go to wrangler: `npm start -- --var NAME:value`. Due schedules start their
// jobs by themselves: a ticker fires the cron trigger every minute (scripts/lib/local-cron.mjs).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCron } from './lib/local-cron.mjs';
import { browserSeeded, setupBrowser } from './setup-browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = process.env.PORT || '8787';

/** Names defined in .dev.vars (KEY=value lines), which then win over our defaults. */
function devVarNames() {
  const file = join(root, '.dev.vars');
  if (!existsSync(file)) return new Set();
  const names = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1])
    .filter((name) => name !== undefined);
  return new Set(names);
}

/**
 * The Browser Rendering binding (env.BROWSER) needs a local Chrome: `npm run setup:browser`
 * seeds Debian's Chromium where Miniflare looks for it. Checked in a few stat calls; set up only
 * when something is missing, and a failure only means rendering will not work locally.
 */
function prepareBrowser() {
  try {
    if (browserSeeded()) return;
    for (const line of setupBrowser()) console.log(`setup:browser: ${line}`);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    console.warn(
      `npm start: Browser Rendering (env.BROWSER) will not work locally: ${why}. ` +
        'Fix that and run `npm run setup:browser`; everything else works.',
    );
  }
}

prepareBrowser();
const defined = devVarNames();
const defaults = { API_TOKEN: 'dev-token', ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_SECRET: '' };
const varArgs = Object.entries(defaults)
  .filter(([name]) => !defined.has(name))
  .flatMap(([name, value]) => ['--var', `${name}:${value}`]);

const args = [
  'dev',
  '--ip',
  '127.0.0.1',
  '--port',
  port,
  '--show-interactive-dev-session=false',
  // Keeps GET /__scheduled?cron=... working for firing a tick by hand.
  '--test-scheduled',
  ...varArgs,
  ...process.argv.slice(2),
];
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const child = spawn(wrangler, args, {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    // wrangler dev otherwise streams a trace of every request, RPC, alarm and subrequest to a
    // collector that writes it to a SQLite store, on the same runtime thread that serves the
    // API, so every request pays for it. X_LOCAL_OBSERVABILITY=true brings it back (the
    // traces of wrangler's local explorer).
    X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? 'false',
  },
});
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => child.kill(sig));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
// Cloudflare fires the cron trigger of wrangler.toml every minute; wrangler dev does not, so
// this does (SCRAPE_FANOUT_LOCAL_CRON=off turns it off).
if (process.env.SCRAPE_FANOUT_LOCAL_CRON !== 'off') startLocalCron(`http://127.0.0.1:${port}`);
