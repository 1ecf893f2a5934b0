// The README's quickstart, run as written: the ```sh blocks under `## Quickstart` are taken
// from README.md itself and run, in order, in one bash process against `npm start` (wrangler dev
// on a free port, a fresh state directory) and the local test origin, the README's ports swapped
// for the test's. The ```json block right after a ```sh block documents what that block prints,
// and is compared with the live answer: the same keys at every level, and the same values, except
// placeholders (a string with `...` stands for any string, `{...}` for any object) and fields
// that change from run to run (VOLATILE). For NDJSON the documented line is the live line with
// the same `url`, and every line must have its keys. The CLI's --out file is checked too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  freePort,
  freshStateDir,
  ROOT,
  startOrigin,
  startServer,
} from '../../scripts/lib/harness.mjs';

/** Where the README's examples point; swapped for the test's servers. */
const DOC_API = 'http://127.0.0.1:8787';
const DOC_ORIGIN = '127.0.0.1:9999';
/** The line that starts the origin in the README: the test starts its own instead. */
const ORIGIN_LINE = /^npm run origin\b.*$/m;
/** Values that differ on every run: compared by type only. */
const VOLATILE = new Set(['durationMs', 'fetchedAt', 'p50Ms', 'p95Ms']);
const ANY_OBJECT = '\u0000any object';

/**
 * The quickstart's ```sh blocks, each with the ```json block that follows it (parsed), or null.
 * @param {string} readme
 * @returns {{ code: string, expected: unknown, doc: string }[]}
 */
function quickstartChunks(readme) {
  const start = readme.indexOf('\n## Quickstart\n');
  assert.ok(start >= 0, 'README.md has no "## Quickstart" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const fences = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$\n?/gm)];
  /** @type {{ code: string, expected: unknown, doc: string }[]} */
  const chunks = [];
  fences.forEach((m, i) => {
    if (m[1] !== 'sh') return;
    const next = fences[i + 1];
    const adjacent = next && next[1] === 'json' && next.index === (m.index ?? 0) + m[0].length;
    const doc = adjacent ? (next[2] ?? '') : '';
    const parsed = adjacent ? parseSample(doc) : { ok: true, value: null };
    assert.ok(parsed.ok, `a documented answer that is not JSON:\n${doc}`);
    chunks.push({ code: m[2] ?? '', expected: parsed.value, doc });
  });
  assert.ok(chunks.length > 0, 'the quickstart has no ```sh blocks');
  return chunks;
}

/** @param {string} text @returns {{ ok: true, value: unknown } | { ok: false }} */
function parseSample(text) {
  try {
    return { ok: true, value: JSON.parse(text.replaceAll('{...}', JSON.stringify(ANY_OBJECT))) };
  } catch {
    return { ok: false };
  }
}

/**
 * Checks a live value against the documented one; returns the differences, by path.
 * @param {unknown} doc @param {unknown} live @param {string} path @param {string[]} out
 */
function compare(doc, live, path = '$', out = []) {
  const key = path.split('.').at(-1) ?? '';
  if (doc === ANY_OBJECT) {
    if (typeof live !== 'object' || live === null || Array.isArray(live))
      out.push(`${path}: expected an object, got ${JSON.stringify(live)}`);
  } else if (typeof doc === 'string' && doc.includes('...')) {
    if (typeof live !== 'string')
      out.push(`${path}: expected a string, got ${JSON.stringify(live)}`);
  } else if (VOLATILE.has(key)) {
    if (typeof live !== typeof doc) out.push(`${path}: expected a ${typeof doc}, got ${live}`);
  } else if (Array.isArray(doc)) {
    if (!Array.isArray(live) || live.length !== doc.length) {
      out.push(`${path}: expected ${JSON.stringify(doc)}, got ${JSON.stringify(live)}`);
    } else {
      for (let i = 0; i < doc.length; i++) compare(doc[i], live[i], `${path}[${i}]`, out);
    }
  } else if (typeof doc === 'object' && doc !== null) {
    if (typeof live !== 'object' || live === null || Array.isArray(live)) {
      out.push(`${path}: expected an object, got ${JSON.stringify(live)}`);
      return out;
    }
    const docKeys = Object.keys(doc).sort();
    const liveKeys = Object.keys(live).sort();
    if (docKeys.join() !== liveKeys.join()) {
      out.push(`${path}: documented keys ${docKeys.join(',')}; live keys ${liveKeys.join(',')}`);
    }
    for (const k of docKeys) {
      if (k in live)
        compare(/** @type {any} */ (doc)[k], /** @type {any} */ (live)[k], `${path}.${k}`, out);
    }
  } else if (doc !== live) {
    out.push(`${path}: documented ${JSON.stringify(doc)}, live ${JSON.stringify(live)}`);
  }
  return out;
}

/**
 * Compares what a block printed with its documented answer: one JSON value, or, when the
 * documented answer is a Result (it has a `url`), NDJSON lines: `results` of them (the job's
 * accepted URLs), the documented one among them (the same `url`), each with its keys.
 * @param {string} output @param {unknown} expected @param {number | null} results
 */
function checkAnswer(output, expected, results) {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{') || l.startsWith('['));
  assert.ok(lines.length > 0, `no JSON answer in:\n${output}`);
  const values = lines.map((l) => JSON.parse(l));
  const doc = /** @type {Record<string, unknown>} */ (expected);
  if (!('url' in doc)) {
    assert.equal(values.length, 1, `one JSON value expected, got:\n${output}`);
    return compare(expected, values[0]);
  }
  if (results !== null) assert.equal(values.length, results, `Results streamed:\n${output}`);
  const same = values.find((v) => v.url === doc.url);
  assert.ok(same, `no line for ${doc.url} in:\n${output}`);
  const problems = compare(expected, same);
  for (const v of values) {
    const keys = Object.keys(v).sort().join();
    if (keys !== Object.keys(doc).sort().join()) problems.push(`a line with keys ${keys}`);
  }
  return problems;
}

describe('the README quickstart', () => {
  /** @type {Awaited<ReturnType<typeof startServer>>} */
  let server;
  /** @type {Awaited<ReturnType<typeof startOrigin>>} */
  let origin;
  const dir = freshStateDir('scrape-fanout-readme-');

  before(async () => {
    [origin, server] = await Promise.all([
      startOrigin({ latencyMs: 0 }),
      freePort().then((port) =>
        startServer({ port, persistDir: join(dir, 'state'), logPath: join(dir, 'server.log') }),
      ),
    ]);
  });
  after(async () => {
    await server?.kill();
    await origin?.close();
  });

  it('answers what the README says it answers', { timeout: 60_000 }, () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const chunks = quickstartChunks(readme);
    const documented = chunks.filter((c) => c.expected !== null);
    assert.ok(documented.length >= 4, `only ${documented.length} documented answers`);
    const local = (/** @type {string} */ text) =>
      text
        .replaceAll(DOC_API, server.base)
        .replaceAll(DOC_ORIGIN, `127.0.0.1:${origin.port}`)
        .replace(ORIGIN_LINE, '# (the test runs its own origin)');
    assert.ok(
      chunks.some((c) => ORIGIN_LINE.test(c.code)),
      'the quickstart starts the origin',
    );
    // `npm run cli -- ...` as the README has it, run from the scratch directory: the same
    // bin/scrape-fanout.mjs that `npm run cli` runs, without npm's package lookup.
    const prelude = [
      'set -eo pipefail',
      'exec 2>&1',
      `npm() { if [ "$1" = run ] && [ "$2" = cli ]; then shift 2; [ "$1" = -- ] && shift; node ${JSON.stringify(join(ROOT, 'bin', 'scrape-fanout.mjs'))} "$@"; else command npm "$@"; fi; }`,
    ];
    const script = [
      ...prelude,
      ...chunks.map((c, i) => `${local(c.code)}\nprintf '\\n@@chunk ${i}\\n'`),
    ].join('\n');
    const run = spawnSync('bash', ['-c', script], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 45_000,
      env: { ...process.env, SCRAPE_FANOUT_URL: server.base, SCRAPE_FANOUT_TOKEN: 'dev-token' },
    });
    const output = run.stdout ?? '';
    assert.equal(run.status, 0, `bash exited ${run.status} (${run.error ?? ''}):\n${output}`);
    const parts = output.split(/\n@@chunk \d+\n/);
    /** URLs the last submitted job accepted: the Results its stream must hold. */
    let accepted = null;
    chunks.forEach((chunk, i) => {
      if (chunk.expected === null) return;
      const expected = JSON.parse(local(JSON.stringify(chunk.expected)));
      const says = `the README says, after\n${chunk.code}\n\n${chunk.doc}`;
      /** @type {string[]} */
      let problems;
      try {
        problems = checkAnswer(parts[i] ?? '', expected, accepted);
      } catch (err) {
        throw new Error(`${says}\n\n${err instanceof Error ? err.message : err}`, { cause: err });
      }
      assert.deepEqual(problems, [], says);
      if (typeof expected.accepted === 'number') accepted = expected.accepted;
    });
    // The CLI step wrote one Result for each URL of its file.
    if (chunks.some((c) => c.code.includes('--out results.ndjson'))) {
      const lines = (/** @type {string} */ name) =>
        readFileSync(join(dir, name), 'utf8').trim().split('\n');
      assert.ok(existsSync(join(dir, 'results.ndjson')), 'the CLI wrote no results.ndjson');
      assert.equal(lines('results.ndjson').length, lines('urls.txt').length);
    }
  });
});
