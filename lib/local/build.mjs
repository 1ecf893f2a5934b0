// The worker as the embedded runtime runs it: bundled the way `wrangler dev` bundles it (esbuild,
// ESM, `cloudflare:*` and `node:*` external, conditions workerd/worker/browser, Text module
// rules), plus what the runtime needs from wrangler.toml (compatibility date, vars, Durable Object classes and
// their storage, R2 buckets). Both are cached under node_modules/.cache/scrape-fanout, keyed by a hash of
// every input, so a start with unchanged sources loads neither esbuild nor wrangler.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {{ binding: string, className: string, storage: 'sqlite' | 'legacy-kv' }} DurableObjectSpec
 * @typedef {{ binding: string, bucketName: string }} R2BucketSpec
 * @typedef {{ name: string, compatibilityDate: string, compatibilityFlags: string[],
 *   vars: Record<string, string>, durableObjects: DurableObjectSpec[],
 *   r2Buckets: R2BucketSpec[], browser?: string | null }} WorkerDescriptor
 * @typedef {{ code: string, descriptor: WorkerDescriptor, path: string, built: boolean }} WorkerBundle
 */

/** The repository: lib/local/ is two levels below it. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Directories whose sources make up the worker (src/index.ts imports durable-objects/). */
const SOURCE_DIRS = ['src', 'durable-objects'];
/** Files that change the bundle or the runtime's configuration without being sources. */
const CONFIG_FILES = ['wrangler.toml', 'package-lock.json'];
/** Cached bundles kept besides the current one (other checkouts of the sources may use them). */
const KEEP_OLD = 3;
/** wrangler's default Text rules, which apply after the rules of wrangler.toml. */
const DEFAULT_TEXT_GLOBS = ['**/*.txt', '**/*.html', '**/*.sql'];

/**
 * The bundle for the sources as they are now: from the cache, or built (and cached) first.
 * @param {{ root?: string, cacheDir?: string }} [options]
 * @returns {Promise<WorkerBundle>}
 */
export async function workerBundle(options = {}) {
  const root = options.root ?? ROOT;
  const cacheDir = options.cacheDir ?? join(root, 'node_modules', '.cache', 'scrape-fanout');
  const key = await sourceHash(root);
  const path = join(cacheDir, `worker-${key}.mjs`);
  const cached = await readCached(path);
  if (cached) return { ...cached, path, built: false };
  const built = await buildWorker(root);
  await mkdir(cacheDir, { recursive: true });
  // Written aside and renamed, so a concurrent start never reads half a file.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(`${tmp}.json`, JSON.stringify(built.descriptor));
  await writeFile(tmp, built.code);
  await rename(`${tmp}.json`, `${path}.json`);
  await rename(tmp, path);
  await pruneCache(cacheDir, path);
  return { ...built, path, built: true };
}

/**
 * A hash of every source file (path and contents), the config files and this builder.
 * @param {string} root
 */
async function sourceHash(root) {
  const hash = createHash('sha256');
  const files = [
    ...(await Promise.all(SOURCE_DIRS.map((d) => listFiles(join(root, d))))).flat().sort(),
    ...CONFIG_FILES.map((f) => join(root, f)),
    fileURLToPath(import.meta.url),
  ];
  for (const file of files) {
    const body = await readFile(file).catch(() => Buffer.alloc(0));
    hash.update(`${relative(root, file)}\0${body.length}\0`);
    hash.update(body);
  }
  return hash.digest('hex').slice(0, 20);
}

/**
 * Every file under `dir` (none when it does not exist), dot entries skipped.
 * @param {string} dir
 * @returns {Promise<string[]>}
 */
async function listFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name));
}

/**
 * @param {string} path
 * @returns {Promise<{ code: string, descriptor: WorkerDescriptor } | null>}
 */
async function readCached(path) {
  try {
    const [code, json] = await Promise.all([
      readFile(path, 'utf8'),
      readFile(`${path}.json`, 'utf8'),
    ]);
    return { code, descriptor: JSON.parse(json) };
  } catch {
    return null; // missing, pruned meanwhile, or torn: build again
  }
}

/**
 * Deletes cached bundles but the newest few (and `current`).
 * @param {string} dir
 * @param {string} current
 */
async function pruneCache(dir, current) {
  const names = (await readdir(dir)).filter((n) => /^worker-[0-9a-f]+\.mjs$/.test(n));
  const dated = await Promise.all(
    names.map(async (n) => ({ path: join(dir, n), at: (await stat(join(dir, n))).mtimeMs })),
  );
  const old = dated.filter((f) => f.path !== current).sort((a, b) => b.at - a.at);
  for (const f of old.slice(KEEP_OLD)) {
    await rm(f.path, { force: true });
    await rm(`${f.path}.json`, { force: true });
  }
}

/**
 * Reads wrangler.toml through wrangler itself and bundles its `main` with esbuild.
 * @param {string} root
 * @returns {Promise<{ code: string, descriptor: WorkerDescriptor }>}
 */
async function buildWorker(root) {
  const wrangler = await import('wrangler');
  const config = wrangler.unstable_readConfig({ config: join(root, 'wrangler.toml') });
  if (!config.main) throw new Error('wrangler.toml names no `main` module');
  const code = await bundle(root, config.main, textGlobs(config.rules ?? []));
  return { code, descriptor: describe(config, wrangler) };
}

/**
 * What the runtime needs from the configuration.
 * @param {import('wrangler').Unstable_Config} config
 * @param {typeof import('wrangler')} wrangler
 * @returns {WorkerDescriptor}
 */
function describe(config, wrangler) {
  const sqlite = wrangler.unstable_getDurableObjectClassNameToUseSQLiteMap(config.migrations);
  /** @type {Record<string, string>} */
  const vars = {};
  for (const [name, value] of Object.entries(config.vars ?? {})) {
    vars[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return {
    name: config.name ?? 'worker',
    compatibilityDate: config.compatibility_date ?? '2000-01-01',
    compatibilityFlags: config.compatibility_flags ?? [],
    vars,
    durableObjects: config.durable_objects.bindings.map((b) => {
      if (b.script_name !== undefined)
        throw new Error(`${b.name}: objects of other workers are not supported`);
      return {
        binding: b.name,
        className: b.class_name,
        storage: sqlite.get(b.class_name) ? 'sqlite' : 'legacy-kv',
      };
    }),
    r2Buckets: (config.r2_buckets ?? []).map((b) => ({
      binding: b.binding,
      bucketName: b.bucket_name ?? b.binding,
    })),
    browser: config.browser?.binding ?? null,
  };
}

/**
 * The globs of Text module rules, wrangler.toml's first and then wrangler's defaults, unless a
 * Text rule without `fallthrough` ends the list. Other rule types are not supported here.
 * @param {Array<{ type: string, globs: string[], fallthrough?: boolean }>} rules
 */
function textGlobs(rules) {
  /** @type {string[]} */
  const globs = [];
  for (const rule of rules) {
    if (rule.type !== 'Text') {
      throw new Error(`wrangler.toml: module rules of type ${rule.type} are not supported locally`);
    }
    globs.push(...rule.globs);
    if (rule.fallthrough !== true) return globs;
  }
  return [...globs, ...DEFAULT_TEXT_GLOBS];
}

/**
 * A glob as wrangler matches it against an import as written (glob-to-regexp, not extended):
 * `*` matches any run of characters, `/` included; everything else is literal.
 * @param {string} glob
 */
export function globRegExp(glob) {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/**
 * Bundles `entry` as wrangler does for `wrangler dev`; imports matching a Text glob become
 * strings.
 * @param {string} root
 * @param {string} entry
 * @param {string[]} globs
 */
async function bundle(root, entry, globs) {
  const esbuild = await import('esbuild');
  // esbuild's service process would outlive the build (and keep a child of ours alive).
  const result = await esbuild
    .build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      write: false,
      outfile: join(root, 'worker.mjs'),
      format: 'esm',
      target: 'es2024',
      supported: { 'import-source': true, using: true },
      conditions: ['workerd', 'worker', 'browser'],
      // As wrangler bundles: the runtime's own modules stay imports (workerd serves `node:buffer`,
      // which @cloudflare/puppeteer imports).
      external: ['cloudflare:*', 'node:*'],
      keepNames: true,
      sourcemap: false,
      logLevel: 'silent',
      loader: { '.js': 'jsx', '.mjs': 'jsx', '.cjs': 'jsx' },
      define: {
        'process.env.NODE_ENV': '"development"',
        'global.process.env.NODE_ENV': '"development"',
        'globalThis.process.env.NODE_ENV': '"development"',
      },
      plugins: [textRulesPlugin(globs)],
    })
    .finally(() => esbuild.stop());
  const out = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  if (!out) throw new Error('esbuild produced no worker module');
  return out.text;
}

/**
 * Loads every import that matches one of `globs` as text (its default export is the string).
 * @param {string[]} globs
 * @returns {import('esbuild').Plugin}
 */
function textRulesPlugin(globs) {
  const patterns = globs.map(globRegExp);
  const filter = new RegExp(patterns.map((p) => `(?:${p.source})`).join('|'));
  return {
    name: 'scrape-fanout-text-rules',
    setup(build) {
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData?.textRule) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { textRule: true },
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return { path: resolved.path, namespace: 'text-rule' };
      });
      build.onLoad({ filter: /.*/, namespace: 'text-rule' }, async (args) => ({
        contents: await readFile(args.path),
        loader: 'text',
      }));
    },
  };
}
