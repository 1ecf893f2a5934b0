#!/usr/bin/env node
// `npm run setup:browser`: makes the Browser Rendering binding (`[browser]` in wrangler.toml)
// work locally and offline, for `npm start` (wrangler dev) and the workerd tests. Local only:
// a deployment uses Cloudflare's browsers and needs none of this.
//
// Locally, Miniflare serves the binding by launching a Chrome it first downloads (Chrome for
// Testing, pinned in its source as BROWSER_VERSION) into
// `$XDG_CACHE_HOME/.wrangler/chrome/linux-<build id>/` (default ~/.cache/.wrangler). Offline
// that download fails. This script puts Debian's Chromium there instead: it installs the
// `chromium` package when missing (apt-get, as root), then writes, for each build id that the
// installed Miniflares expect (read from their source, so a wrangler upgrade keeps working):
//   chrome-linux64/chrome         a script that runs Debian's Chromium (--no-sandbox as root,
//                                 and ended with the process that launched it: setpriv)
//   .miniflare-install-complete   Miniflare's marker: "this install has launched before", so
//                                 a failed launch is reported instead of deleting the folder
// A folder that already holds Miniflare's own download is left alone. Running it again does
// nothing and says so. `npm start` runs it when something is missing (`browserSeeded()`).
// CHROMIUM_BINARY=/path runs another Chromium build instead of Debian's.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Debian's Chromium: the binary itself (/usr/bin/chromium is a wrapper script around it). */
const DEBIAN_CHROMIUM = '/usr/lib/chromium/chromium';
const MARKER = '.miniflare-install-complete';
/** Written into our launcher so a later run can tell it from Miniflare's own Chrome. */
const SIGNATURE = '# scrape-fanout setup-browser';
/** Where build ids read from Miniflare's source are remembered, per Miniflare version. */
const MEMO = join(ROOT, 'node_modules', '.cache', 'scrape-fanout', 'browser-build-ids.json');

/** The Chromium binary the launcher runs: `CHROMIUM_BINARY` or Debian's. */
export function chromiumBinary() {
  return process.env.CHROMIUM_BINARY || DEBIAN_CHROMIUM;
}

/** Miniflare's cache folder on Linux, as it computes it (xdg-app-paths' cache of ".wrangler"). */
export function wranglerCacheDir() {
  return join(process.env.XDG_CACHE_HOME || join(os.homedir(), '.cache'), '.wrangler');
}

/** `@puppeteer/browsers`' platform name, as in Miniflare's install folder names. */
function browserPlatform() {
  return os.arch() === 'arm64' ? 'linux_arm' : 'linux';
}

/**
 * The entry files of the Miniflares that can launch the browser: wrangler's (`npm start`),
 * the vitest plugin's (the workerd tests) and the project's own; missing ones are skipped.
 */
function miniflareEntries() {
  const owners = [join(ROOT, 'package.json')];
  for (const pkg of ['wrangler', '@cloudflare/vitest-plugin']) {
    const dir = join(ROOT, 'node_modules', ...pkg.split('/'));
    if (existsSync(join(dir, 'package.json'))) owners.push(join(dir, 'package.json'));
  }
  const entries = new Set();
  for (const owner of owners) {
    try {
      entries.add(createRequire(owner).resolve('miniflare'));
    } catch {
      // Not installed next to this owner.
    }
  }
  if (entries.size === 0) throw new Error('miniflare is not installed: run npm install');
  return [...entries];
}

/** `{ "<miniflare entry>@<version>": "<build id>" }` from earlier runs. */
function readMemo() {
  try {
    return /** @type {Record<string, string>} */ (JSON.parse(readFileSync(MEMO, 'utf8')));
  } catch {
    return {};
  }
}

/**
 * The version in the package.json next to a Miniflare entry (dist/src/index.js).
 * @param {string} entry
 */
function miniflareVersion(entry) {
  const pkg = join(dirname(entry), '..', '..', 'package.json');
  return String(JSON.parse(readFileSync(pkg, 'utf8')).version);
}

/**
 * The Chrome build id each installed Miniflare launches (`var BROWSER_VERSION = "..."` in its
 * bundle), remembered per Miniflare version so that `npm start`'s check stays cheap. Throws
 * when a Miniflare's source no longer says it in that form.
 */
export function expectedBuildIds() {
  const memo = readMemo();
  let changed = false;
  const ids = new Set();
  for (const entry of miniflareEntries()) {
    const key = `${entry}@${miniflareVersion(entry)}`;
    let id = memo[key];
    if (id === undefined) {
      const found = /\bBROWSER_VERSION = "(\d+(?:\.\d+)+)"/.exec(readFileSync(entry, 'utf8'));
      if (!found?.[1]) {
        throw new Error(
          `cannot find the Chrome version Miniflare launches (BROWSER_VERSION) in ${entry}; ` +
            'its source changed: look for "browser-rendering" and "buildId" there and update ' +
            'scripts/setup-browser.mjs',
        );
      }
      id = found[1];
      memo[key] = id;
      changed = true;
    }
    ids.add(id);
  }
  if (changed) {
    try {
      mkdirSync(dirname(MEMO), { recursive: true });
      writeFileSync(MEMO, `${JSON.stringify(memo, null, 2)}\n`);
    } catch {
      // Only a cache: the next run reads Miniflare's source again.
    }
  }
  return [...ids];
}

/**
 * Miniflare's install folder for one build id.
 * @param {string} buildId
 */
export function installDir(buildId) {
  return join(wranglerCacheDir(), 'chrome', `${browserPlatform()}-${buildId}`);
}

/**
 * The launcher Miniflare runs as `chrome`: Debian's Chromium, without sandbox as root, ended
 * with the process that launched it (Miniflare starts Chrome detached, so a wrangler dev or
 * test run that is killed, or exits before it has closed every browser, would leave it behind).
 */
function launcherScript() {
  return [
    '#!/bin/sh',
    `${SIGNATURE}: Debian's Chromium where Miniflare expects its Chrome download.`,
    `chromium='${chromiumBinary()}'`,
    '# Chromium refuses to start as root without --no-sandbox (CHROMIUM_NO_SANDBOX=1 forces it).',
    'if [ "$(id -u)" = 0 ] || [ "$CHROMIUM_NO_SANDBOX" = 1 ]; then set -- --no-sandbox "$@"; fi',
    '# SIGTERM when the process that launched it (Miniflare) dies: no browser outlives it.',
    'if command -v setpriv >/dev/null 2>&1; then',
    '  exec setpriv --pdeathsig TERM "$chromium" "$@"',
    'fi',
    'exec "$chromium" "$@"',
    '',
  ].join('\n');
}

/**
 * The state of a build id's folder: 'ready' (our launcher and the marker), 'missing' or
 * 'stale' (to be written), 'theirs' (a Chrome Miniflare downloaded itself: left alone).
 * @param {string} buildId
 */
function folderState(buildId) {
  const dir = installDir(buildId);
  const chrome = join(dir, 'chrome-linux64', 'chrome');
  if (!existsSync(chrome)) return 'missing';
  const text = readFileSync(chrome).subarray(0, 4096).toString('latin1');
  if (!text.includes(SIGNATURE)) return 'theirs';
  if (text !== launcherScript()) return 'stale';
  return existsSync(join(dir, MARKER)) ? 'ready' : 'stale';
}

/**
 * Whether everything is in place, with no side effect but the build id memo: Chromium
 * installed (unless Miniflare's own Chrome is there) and every expected folder seeded. Cheap
 * (a few stat calls and small reads), for `npm start`'s check on every start.
 */
export function browserSeeded() {
  if (process.platform !== 'linux') return true;
  const states = expectedBuildIds().map(folderState);
  if (states.every((s) => s === 'theirs')) return true;
  return existsSync(chromiumBinary()) && states.every((s) => s === 'ready' || s === 'theirs');
}

/**
 * Runs a command with inherited output; true when it exited 0.
 * @param {string} cmd
 * @param {string[]} args
 */
function run(cmd, args) {
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

/** Installs Debian's chromium when missing; throws with what to do when it cannot. */
function ensureChromium() {
  if (existsSync(chromiumBinary())) return false;
  const hint = 'install it with `sudo apt-get install chromium` (Debian/Ubuntu)';
  if (process.env.CHROMIUM_BINARY) {
    throw new Error(`CHROMIUM_BINARY=${chromiumBinary()} does not exist`);
  }
  if (process.getuid?.() !== 0) throw new Error(`Chromium is not installed: ${hint}`);
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`Chromium is not installed and apt-get is not available: ${hint}`);
  }
  console.log('setup:browser: installing Debian chromium (apt-get install -y chromium)');
  if (!run('apt-get', ['install', '-y', '-qq', 'chromium'])) {
    if (!run('apt-get', ['update', '-qq']) || !run('apt-get', ['install', '-y', '-qq', 'chromium']))
      throw new Error('apt-get install chromium failed');
  }
  if (!existsSync(chromiumBinary())) {
    throw new Error(`apt-get installed chromium but ${chromiumBinary()} is missing`);
  }
  return true;
}

/**
 * Writes the launcher and the marker for one build id.
 * @param {string} buildId
 */
function seed(buildId) {
  const dir = installDir(buildId);
  const chrome = join(dir, 'chrome-linux64', 'chrome');
  mkdirSync(dirname(chrome), { recursive: true });
  writeFileSync(chrome, launcherScript());
  chmodSync(chrome, 0o755);
  writeFileSync(join(dir, MARKER), '');
}

/**
 * Installs Chromium when missing and seeds Miniflare's folder for each expected build id.
 * Returns the lines it reports; throws with the reason when it cannot.
 */
export function setupBrowser() {
  if (process.platform !== 'linux') {
    return [`not Linux: Miniflare downloads its own Chrome on first use (needs internet)`];
  }
  const ids = expectedBuildIds();
  const states = ids.map(folderState);
  if (states.every((s) => s === 'theirs')) {
    return [`Miniflare's own Chrome ${ids.join(', ')} is installed: nothing to do`];
  }
  const lines = [];
  if (ensureChromium()) lines.push(`installed ${chromiumBinary()}`);
  ids.forEach((id, i) => {
    const state = states[i];
    if (state === 'ready' || state === 'theirs') return;
    seed(id);
    lines.push(`seeded ${installDir(id)} (Chrome ${id} -> ${chromiumBinary()})`);
  });
  if (lines.length === 0) {
    const dirs = ids.map(installDir).join(', ');
    return [`already set up: ${dirs} -> ${chromiumBinary()}; nothing to do`];
  }
  return lines;
}

function main() {
  try {
    for (const line of setupBrowser()) console.log(`setup:browser: ${line}`);
  } catch (err) {
    console.error(`setup:browser: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
