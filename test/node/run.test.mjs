// `scrape-fanout run` end to end, no server: the CLI runs the worker in an embedded runtime
// against the local test origin. Output files, the summary, CSV, and Ctrl-C (the job is
// cancelled, exactly the Results settled before it are written, exit 130, nothing left running).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startLocal } from 'scrape-fanout/local';
import { isAlive, processTable } from '../../scripts/lib/harness.mjs';
import { startOrigin } from '../origin/server.ts';

const CLI = fileURLToPath(new URL('../../bin/scrape-fanout.mjs', import.meta.url));

/** @type {Awaited<ReturnType<typeof startOrigin>>} */
let origin;
/** @type {string} */
let dir;

before(async () => {
  origin = await startOrigin({ hosts: ['127.0.0.1'] });
  dir = await mkdtemp(join(tmpdir(), 'scrape-fanout-run-test-'));
});
after(async () => {
  await origin?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Starts the CLI in its own process group (as a shell starts a foreground job).
 * @param {string[]} args
 * @param {string} [input] stdin
 * @param {Record<string, string>} [env]
 */
function start(args, input = '', env = {}) {
  const child = spawn(process.execPath, [CLI, ...args], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  child.stdin.end(input);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    /** @type {Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string }>} */
    exited: exited.then((r) => ({ ...r, stdout, stderr })),
  };
}

/** @param {string[]} args @param {string} [input] */
const runCli = (args, input) => start(args, input).exited;

/** The value of the summary row `label` (`  ok      5`). @param {string} stderr @param {string} label */
function row(stderr, label) {
  const m = new RegExp(`^\\s+${label}\\s+(\\d+)`, 'm').exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** @param {string} text */
const jsonLines = (text) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

/** @param {string} tag */
function urlsFor(tag) {
  const b = origin.baseUrl();
  return {
    pages: [1, 2, 3, 4].map((i) => `${b}/page?title=P${i}&links=${i}&tag=${tag}`),
    missing: `${b}/status/404?tag=${tag}`,
    gone: `${b}/status/410?tag=${tag}`,
    flaky: `${b}/flaky?key=${tag}&fails=1&tag=${tag}`,
  };
}

describe('scrape-fanout run (embedded runtime, local origin)', () => {
  it('runs a file: one Result per URL in --out, the summary counts them', async () => {
    const u = urlsFor('file');
    const list = [...u.pages, u.missing, u.gone, u.flaky, `${u.pages[0]}#again`];
    const file = join(dir, 'urls.txt');
    await writeFile(file, `# a list\n${list.join('\n')}\n`);
    const out = join(dir, 'file.ndjson');
    const r = await runCli(['run', file, '--out', out, '--concurrency', '4', '--select', 'h=h1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const results = jsonLines(await readFile(out, 'utf8'));
    const unique = [...u.pages, u.missing, u.gone, u.flaky];
    assert.deepEqual(results.map((x) => x.url).sort(), [...unique].sort());
    const byUrl = new Map(results.map((x) => [x.url, x]));
    assert.deepEqual(
      u.pages.map((p) => [byUrl.get(p).title, byUrl.get(p).links, byUrl.get(p).data.h]),
      [
        ['P1', 1, 'P1'],
        ['P2', 2, 'P2'],
        ['P3', 3, 'P3'],
        ['P4', 4, 'P4'],
      ],
    );
    assert.deepEqual(
      [byUrl.get(u.missing).status, byUrl.get(u.missing).error.kind],
      [404, 'http_status'],
    );
    assert.deepEqual([byUrl.get(u.flaky).ok, byUrl.get(u.flaky).attempts], [true, 2]);
    assert.match(r.stderr, /job \S+ completed: 7 URLs/);
    assert.deepEqual(
      ['ok', 'failed', 'http_status', 'written'].map((label) => row(r.stderr, label)),
      [5, 2, 2, 7],
    );
    assert.match(r.stderr, /latency p50 \/ p95 +\d+ ms \/ \d+ ms/);
    assert.match(r.stderr, /wall time .* the floor .* \(ceil\(7\/4\) = 2 round\(s\) x p50/);
  });

  it('reads stdin (-) and writes NDJSON to stdout; a failFast job that failed exits 1', async () => {
    const u = urlsFor('stdin');
    const input = `${u.pages[0]}\n${u.pages[1]}\n`;
    const ok = await runCli(['run', '-'], input);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(
      jsonLines(ok.stdout)
        .map((x) => [x.url, x.ok])
        .sort(),
      [
        [u.pages[0], true],
        [u.pages[1], true],
      ],
    );
    assert.equal(row(ok.stderr, 'written'), 2);
    const failed = await runCli(
      ['run', '-', '--mode', 'failFast', '--concurrency', '1'],
      `${u.missing}\n`,
    );
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /job \S+ failed: 1 URLs/);
  });

  it('writes CSV: the header, one row per URL, RFC 4180 quoting, as the server writes it', async () => {
    const b = origin.baseUrl();
    const quoted = `${b}/page?title=${encodeURIComponent('Hello, "world"')}&tag=csv`;
    const plain = `${b}/page?title=Plain&links=2&tag=csv`;
    const out = join(dir, 'results.csv');
    const state = join(dir, 'csv-state');
    const r = await runCli(
      ['run', '-', '--out', out, '--select', 'heading=h1', '--state', state],
      `${quoted}\n${plain}\n`,
    );
    assert.equal(r.code, 0, r.stderr);
    const csv = await readFile(out, 'utf8');
    assert.equal(csv, await serverCsv(state, /job (\S+) completed/.exec(r.stderr)?.[1] ?? ''));
    const lines = csv.split('\r\n');
    assert.equal(
      lines[0],
      'url,finalUrl,ok,status,contentType,title,links,bytes,attempts,durationMs,fetchedAt,errorKind,errorMessage,contentHash,notModified,changed,data.heading',
    );
    assert.equal(lines.length, 4); // header, two rows, and the empty string after the last CRLF
    assert.equal(lines[3], '');
    const row1 = lines.slice(1).find((l) => l.startsWith(`"${quoted}"`) || l.startsWith(quoted));
    assert.ok(row1, lines.join('\n'));
    assert.match(
      row1,
      /,true,200,text\/html; charset=utf-8,"Hello, ""world""",0,\d+,1,\d+,[^,]+,,,sha256:[0-9a-f]{64},false,,"Hello, ""world"""$/,
    );
    const row2 = lines.slice(1).find((l) => l.startsWith(plain));
    assert.match(
      row2 ?? '',
      /,true,200,text\/html; charset=utf-8,Plain,2,\d+,1,\d+,[^,]+,,,sha256:[0-9a-f]{64},false,,Plain$/,
    );
  });

  for (const target of ['the CLI', 'its process group (a terminal Ctrl-C)']) {
    it(`Ctrl-C to ${target}: cancels, writes the settled Results once, exits 130`, async () => {
      const tag = `gate-${target.length}`;
      const b = origin.baseUrl();
      const fast = [1, 2, 3, 4, 5].map((i) => `${b}/page?title=F${i}&tag=${tag}`);
      const held = [1, 2, 3, 4, 5, 6].map((i) => `${b}/gate?n=${i}&tag=${tag}`);
      const out = join(dir, `${tag}.ndjson`);
      const tmp = await mkdtemp(join(dir, 'tmp-'));
      const run = start(
        ['run', '-', '--out', out, '--concurrency', '20'],
        [...fast, ...held].join('\n'),
        { TMPDIR: tmp },
      );
      const pid = /** @type {number} */ (run.child.pid);
      await waitForLines(out, fast.length, run.exited);
      process.kill(target === 'the CLI' ? pid : -pid, 'SIGINT');
      const r = await run.exited;
      assert.equal(r.code, 130, r.stderr);
      const text = await readFile(out, 'utf8');
      assert.ok(text.endsWith('\n'));
      const results = jsonLines(text);
      assert.deepEqual(results.map((x) => x.url).sort(), [...fast].sort());
      assert.ok(results.every((x) => x.ok));
      const m =
        /interrupted: wrote the (\d+) Results settled before Ctrl-C; (\d+) URLs were cancelled/.exec(
          r.stderr,
        );
      assert.ok(m, r.stderr);
      assert.deepEqual([Number(m[1]), Number(m[2])], [results.length, held.length]);
      assert.match(r.stderr, /job \S+ cancelled: 11 URLs/);
      assert.deepEqual(await groupLeft(pid), [], 'processes of the run left running');
      assert.deepEqual(await runtimeDirs(tmp), [], 'temporary state left behind');
    });
  }

  it('SIGTERM quits at once: exit 143, no process and no temporary state left', async () => {
    const tag = 'term';
    const b = origin.baseUrl();
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    const held = [1, 2, 3].map((i) => `${b}/gate?n=${i}&tag=${tag}`);
    const run = start(['run', '-', '--out', join(dir, 'term.ndjson')], held.join('\n'), {
      TMPDIR: tmp,
    });
    const pid = /** @type {number} */ (run.child.pid);
    for (let i = 0; i < 600 && (await originStats(tag)).inFlight < held.length; i++) {
      await delay(50);
    }
    process.kill(pid, 'SIGTERM');
    const r = await run.exited;
    assert.equal(r.code, 143, r.stderr);
    assert.deepEqual(await groupLeft(pid), [], 'processes of the run left running');
    assert.deepEqual(await runtimeDirs(tmp), [], 'temporary state left behind');
  });
});

/**
 * The job's Results as the API's own CSV stream gives them, read from the state `run` kept.
 * @param {string} stateDir @param {string} id
 */
async function serverCsv(stateDir, id) {
  const local = await startLocal({ stateDir });
  try {
    const res = await fetch(`${local.url}/v1/jobs/${id}/results?format=csv`, {
      headers: { authorization: `Bearer ${local.token}` },
    });
    assert.equal(res.status, 200);
    return await res.text();
  } finally {
    await local.close();
  }
}

/** The origin's counters for `tag`. @param {string} tag */
async function originStats(tag) {
  const res = await fetch(`${origin.baseUrl()}/__stats?tag=${tag}`);
  return /** @type {{ inFlight: number }} */ (await res.json());
}

/** Directories the runtime made in `tmp` (its state, miniflare's own). @param {string} tmp */
async function runtimeDirs(tmp) {
  const names = await readdir(tmp);
  return names.filter((n) => n.startsWith('scrape-fanout-local-') || n.startsWith('miniflare-'));
}

/**
 * Waits until `file` holds `n` lines (or the run ended first).
 * @param {string} file @param {number} n @param {Promise<unknown>} exited
 */
async function waitForLines(file, n, exited) {
  let over = false;
  void exited.then(() => {
    over = true;
  });
  for (let i = 0; i < 600 && !over; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.split('\n').length - 1 >= n) return;
    await delay(50);
  }
  throw new Error(`${file}: not ${n} lines in time`);
}

/** Live processes of the process group `pgid`, after a short grace. @param {number} pgid */
async function groupLeft(pgid) {
  for (let i = 0; i < 40; i++) {
    const left = [...processTable().values()].filter((p) => p.pgrp === pgid && isAlive(p.pid));
    if (left.length === 0) return [];
    await delay(100);
  }
  return [...processTable().values()].filter((p) => p.pgrp === pgid).map((p) => p.comm);
}
