// The CLI end to end against a fake API (a plain Node server): exit codes, error output,
// the fall-back from a broken event stream to polling, and NDJSON downloads.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/scrape-fanout.mjs', import.meta.url));

/** @param {string} id @param {string} status @param {number} settled */
function view(id, status, settled) {
  return {
    id,
    status,
    mode: 'settle',
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: status === 'running' ? null : '2025-01-01T00:00:01.000Z',
    deadlineAt: null,
    counts: {
      total: 3,
      queued: 3 - settled,
      inFlight: 0,
      retrying: 0,
      succeeded: settled,
      failed: 0,
      cancelled: 0,
    },
    stats: { p50Ms: 10, p95Ms: 20, bytes: 300 },
  };
}

/** Requests the fake API saw: `METHOD path` plus the JSON body of POSTs. */
const seen = [];
/**
 * What the fake API found wrong in a request. A throw inside its handler would crash the
 * process instead of failing a test, so problems are collected and asserted after each test.
 * @type {string[]}
 */
const problems = [];
let polls = 0;
let breaks = 0;

const server = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => {
    raw += c;
  });
  req.on('end', () => {
    seen.push({
      line: `${req.method} ${req.url}`,
      body: raw ? JSON.parse(raw) : undefined,
      headers: req.headers,
    });
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // `t0k` is the admin; `sfk_key` an API key, which may not manage keys.
    const admin = req.headers.authorization === 'Bearer t0k';
    if (!admin && req.headers.authorization !== 'Bearer sfk_key') {
      return json(401, { error: { code: 'unauthorized', message: 'bad token' } });
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/v1/keys')) {
      if (!admin) {
        return json(403, {
          error: { code: 'forbidden', message: 'only the admin token may do this' },
        });
      }
      return keyRoutes(req.method ?? '', url, raw, json);
    }
    if (req.method === 'POST' && url.pathname === '/v1/jobs') {
      const body = JSON.parse(raw);
      if (body.urls[0] === 'https://busy.test/') {
        res.setHeader('retry-after', '30');
        const message =
          'this API key has 1 active jobs, its maxActiveJobs; retry when one has ended';
        return json(429, { error: { code: 'rate_limited', message } });
      }
      if (body.urls.some((u) => !u.startsWith('http'))) {
        const i = body.urls.findIndex((u) => !u.startsWith('http'));
        return json(400, {
          error: { code: 'invalid_request', message: `urls[${i}]: not an http(s) URL` },
        });
      }
      const id = body.urls[0].includes('fail') ? 'jfail' : 'jok';
      return json(202, { id, status: 'queued', accepted: body.urls.length, duplicates: 0 });
    }
    const m = /^\/v1\/jobs\/(\w+)(\/\w+)?$/.exec(url.pathname);
    if (!m) return json(404, { error: { code: 'not_found', message: 'no route' } });
    const [, id, sub] = m;
    if (id === 'missing')
      return json(404, { error: { code: 'not_found', message: 'no job missing' } });
    const final = id === 'jfail' ? 'failed' : 'completed';
    if (sub === '/events') {
      // One progress event, then the stream breaks before `end`: the CLI must poll.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `event: progress\ndata: ${JSON.stringify({ ...view(id, 'running', 1), ratePerSec: 1 })}\n\n`,
      );
      setTimeout(() => res.destroy(), 50);
      return;
    }
    if (sub === '/results' && req.headers.accept === 'text/csv') {
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8; header=present' });
      return res.end('url,ok\r\nhttps://a.test/0,false\r\n');
    }
    if (sub === '/results') {
      if (req.headers.accept !== 'application/x-ndjson') {
        problems.push(`${req.method} ${req.url}: accept ${req.headers.accept}`);
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      // `jbreak` breaks off after one line the first time; `jdead` every time.
      if (id === 'jdead' || (id === 'jbreak' && breaks++ === 0)) {
        res.write('{"url":"https://a.test/0","ok":true}\n{"url":"https://a.t');
        setTimeout(() => res.destroy(), 20);
        return;
      }
      for (let i = 0; i < 3; i++)
        res.write(`${JSON.stringify({ url: `https://a.test/${i}`, ok: true })}\n`);
      res.end();
      return;
    }
    if (sub === '/attempts') {
      // Two pages: the first names a cursor, the second ends the list.
      const cursor = url.searchParams.get('cursor');
      const item = (n) => ({ url: 'https://a.test/0', attempt: n, kind: 'http_status' });
      return json(
        200,
        cursor === null
          ? { items: [item(1)], nextCursor: 'c1' }
          : { items: [item(2)], nextCursor: null },
      );
    }
    if (req.method === 'GET') {
      polls++;
      return json(200, view(id, polls % 3 === 0 ? final : 'running', polls % 3 === 0 ? 3 : 2));
    }
    if (req.method === 'POST' && sub === '/redrive') {
      return json(202, { id: 'jre', status: 'running', accepted: 2, redriveOf: id });
    }
    if (req.method === 'DELETE' && url.searchParams.get('purge') === 'true') {
      return json(200, { id, purged: true });
    }
    if (req.method === 'DELETE') return json(200, view(id, 'cancelled', 1));
    if (req.method === 'PATCH')
      return json(200, { ...view(id, 'running', 1), deadlineAt: '2025-01-01T00:01:00.000Z' });
    return json(404, { error: { code: 'not_found', message: 'no route' } });
  });
});

/** Two keys, served one a page: the first page names a cursor, the second ends the list. */
const KEYS = [
  {
    id: 'key_2',
    name: 'nightly crawler',
    maxActiveJobs: 5,
    maxConcurrency: 200,
    createdAt: '2025-01-02T00:00:00.000Z',
  },
  {
    id: 'key_1',
    name: 'ci',
    maxActiveJobs: 10,
    maxConcurrency: 1000,
    createdAt: '2025-01-01T00:00:00.000Z',
  },
];

/**
 * /v1/keys of the fake API, for the admin token.
 * @param {string} method @param {URL} url @param {string} raw
 * @param {(status: number, body: unknown) => void} json
 */
function keyRoutes(method, url, raw, json) {
  if (method === 'POST' && url.pathname === '/v1/keys') {
    const body = JSON.parse(raw);
    return json(201, {
      id: 'key_new',
      name: body.name,
      token: 'sfk_new',
      maxActiveJobs: body.maxActiveJobs ?? 10,
      maxConcurrency: body.maxConcurrency ?? 1000,
      createdAt: '2025-01-03T00:00:00.000Z',
    });
  }
  if (method === 'GET' && url.pathname === '/v1/keys') {
    const cursor = url.searchParams.get('cursor');
    return json(
      200,
      cursor === null
        ? { items: [KEYS[0]], nextCursor: 'c1' }
        : { items: [KEYS[1]], nextCursor: null },
    );
  }
  const m = /^\/v1\/keys\/(\w+)$/.exec(url.pathname);
  if (method === 'DELETE' && m && KEYS.some((k) => k.id === m[1])) {
    return json(200, { id: m[1], deleted: true });
  }
  return json(404, { error: { code: 'not_found', message: `no key ${m?.[1]}` } });
}

let base = '';
before(async () => {
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
after(() => server.close());
afterEach(() => {
  assert.deepEqual(problems.splice(0), [], 'requests the fake API found wrong');
});

/**
 * Runs the CLI; resolves to its exit code and output.
 * @param {string[]} args
 * @param {{ input?: string, env?: Record<string, string> }} [opts]
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
function run(args, opts = {}) {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, SCRAPE_FANOUT_URL: base, SCRAPE_FANOUT_TOKEN: 't0k', ...opts.env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
    child.stdin?.end(opts.input ?? '');
  });
}

// The cases run in this order, in one suite: they share the fake API's request log and its
// poll counter.
describe('scrape-fanout CLI (fake API)', () => {
  submitCases();
  apiErrorCases();
  jobCommandCases();
  keyCases();
  usageCases();
});

/** submit: URL sources and options, --out, exit codes, a URL the API refuses. */
function submitCases() {
  it('submits URLs from stdin and --url, with options, and prints only the id when quiet', async () => {
    seen.length = 0;
    const r = await run(
      [
        'submit',
        '-',
        '--url',
        'https://a.test/0',
        '--concurrency=5',
        '--quiet',
        '--idempotency-key',
        'k1',
      ],
      {
        input: '# urls\nhttps://a.test/1\n\nhttps://a.test/2\n',
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'jok\n');
    const post = seen.find((s) => s.line === 'POST /v1/jobs');
    assert.deepEqual(post?.body, {
      urls: ['https://a.test/0', 'https://a.test/1', 'https://a.test/2'],
      concurrency: 5,
    });
    assert.equal(post?.headers['idempotency-key'], 'k1');
  });

  it('--out waits (falling back to polling when the event stream breaks) and writes NDJSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sf-cli-'));
    const out = join(dir, 'r.ndjson');
    const r = await run(['submit', '--url', 'https://a.test/0', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /job jok completed in 1\.0 s: 3 ok, 0 failed/);
    assert.match(r.stderr, /wrote 3 results/);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 3);
    assert.equal(JSON.parse(lines[2]).url, 'https://a.test/2');
    await assert.rejects(stat(`${out}.part`), { code: 'ENOENT' });
  });

  it('exits 1 when the job ends failed', async () => {
    const r = await run(['submit', '--url', 'https://fail.test/', '--wait', '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, 'jfail\n');
  });

  it('points an invalid URL at its line and exits 2', async () => {
    const r = await run(['submit', '-'], { input: 'https://a.test/\n\nftp://nope\n' });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: invalid_request: urls[1]: not an http(s) URL (stdin line 3)\n');
  });
}

/** Errors of the API and of the connection to it. */
function apiErrorCases() {
  it('prints API errors as `error: code: message` and exits 2', async () => {
    const r = await run(['status', 'missing']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: not_found: no job missing\n');
    const bad = await run(['status', 'jok'], { env: { SCRAPE_FANOUT_TOKEN: 'nope' } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: unauthorized: bad token\nhint: check --token/);
  });

  it('names the URL and suggests npm start when the API is unreachable', async () => {
    // A port the OS just gave out and that nothing listens on any more. Another process may
    // take it before the CLI connects: then the run is repeated on a fresh port.
    let port = 0;
    let r = { code: 0, stdout: '', stderr: '' };
    for (let i = 0; i < 3; i++) {
      port = await closedPort();
      r = await run(['status', 'jok', '--api', `http://127.0.0.1:${port}/`]);
      if (r.stderr.includes('ECONNREFUSED')) break;
    }
    assert.equal(r.code, 2);
    assert.ok(
      r.stderr.startsWith(
        `error: cannot reach http://127.0.0.1:${port}/v1/jobs/jok: ECONNREFUSED\n`,
      ),
      r.stderr,
    );
    assert.match(r.stderr, /npm start/);
  });
}

/** A free port from the OS, closed again (nothing listens on it). */
async function closedPort() {
  const free = http.createServer();
  await new Promise((r) => free.listen(0, '127.0.0.1', () => r(undefined)));
  const addr = free.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise((r) => free.close(() => r(undefined)));
  return port;
}

/** status, cancel, deadline, results and attempts. */
function jobCommandCases() {
  it('status --short, cancel, deadline, results', async () => {
    const s = await run(['status', 'jok', '--short']);
    assert.match(s.stdout, /^jok (running|completed) \d\/3 settled/);
    const c = await run(['cancel', 'jok']);
    assert.match(c.stdout, /^jok cancelled 1\/3 settled/);
    seen.length = 0;
    const d = await run(['deadline', 'jok', '60_000']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(seen[0]?.body, { deadlineMs: 60000 });
    assert.match(d.stdout, /deadline 2025-01-01T00:01:00.000Z/);
    const res = await run(['results', 'jok', '--follow']);
    assert.equal(res.stdout.trim().split('\n').length, 3);
    assert.ok(seen.some((x) => x.line === 'GET /v1/jobs/jok/results?follow=true'));
  });

  it('starts a file download over when the stream breaks; reports a broken stdout stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sf-cli-'));
    const out = join(dir, 'r.ndjson');
    const r = await run(['results', 'jbreak', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the stream broke after \d+ lines?\b .*retrying/);
    assert.equal((await readFile(out, 'utf8')).trim().split('\n').length, 3);
    const d = await run(['results', 'jdead']);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /^error: results: the stream broke after \d+ lines?\b/);
    const f = await run(['results', 'jdead', '--out', out]);
    assert.equal(f.code, 2);
    assert.equal((await readFile(out, 'utf8')).trim().split('\n').length, 3, 'old file untouched');
    await assert.rejects(stat(`${out}.part`), { code: 'ENOENT' });
  });

  it('attempts pages through the attempt log as NDJSON', async () => {
    const r = await run(['attempts', 'jok']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.attempt),
      [1, 2],
    );
    assert.ok(seen.some((x) => x.line === 'GET /v1/jobs/jok/attempts?limit=1000&cursor=c1'));
  });
}

/** purge, keys create/list/delete, and an API key's token. */
function keyCases() {
  it('results --format csv --ok false --kind timeout asks the server for filtered CSV', async () => {
    seen.length = 0;
    const r = await run(['results', 'jok', '--format', 'csv', '--ok', 'false', '--kind=timeout']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'url,ok\r\nhttps://a.test/0,false\r\n');
    assert.deepEqual(
      seen.map((x) => [x.line, x.headers.accept]),
      [['GET /v1/jobs/jok/results?ok=false&kind=timeout', 'text/csv']],
    );
    const bad = await run(['results', 'jok', '--format', 'xml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format: expected ndjson or csv, got "xml"/);
  });

  it('redrive sends the kinds asked for, or no body, and prints the new job', async () => {
    seen.length = 0;
    const r = await run(['redrive', 'jok', '--kind', 'timeout', '--kind=network']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'jre (2 URLs of jok)\n');
    const all = await run(['redrive', 'jok']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(
      seen.map((x) => [x.line, x.body]),
      [
        ['POST /v1/jobs/jok/redrive', { kinds: ['timeout', 'network'] }],
        ['POST /v1/jobs/jok/redrive', undefined],
      ],
    );
  });

  it('purge sends DELETE ?purge=true and prints `purged ID`', async () => {
    seen.length = 0;
    const r = await run(['purge', 'jok']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'purged jok\n');
    assert.deepEqual(
      seen.map((x) => x.line),
      ['DELETE /v1/jobs/jok?purge=true'],
    );
    const missing = await run(['purge', 'missing']);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'error: not_found: no job missing\n');
  });

  it('keys create sends the name and the limits given, and prints the token once', async () => {
    seen.length = 0;
    const r = await run([
      'keys',
      'create',
      'nightly crawler',
      '--max-active-jobs',
      '5',
      '--max-concurrency=200',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'created key key_new "nightly crawler": maxActiveJobs 5, maxConcurrency 200\ntoken sfk_new\n',
    );
    assert.equal(r.stderr, 'note: the token is not shown again; store it now\n');
    assert.deepEqual(
      seen.map((x) => [x.line, x.body, x.headers.authorization]),
      [
        [
          'POST /v1/keys',
          { name: 'nightly crawler', maxActiveJobs: 5, maxConcurrency: 200 },
          'Bearer t0k',
        ],
      ],
    );
    seen.length = 0;
    const j = await run(['keys', 'create', 'ci', '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), {
      id: 'key_new',
      name: 'ci',
      token: 'sfk_new',
      maxActiveJobs: 10,
      maxConcurrency: 1000,
      createdAt: '2025-01-03T00:00:00.000Z',
    });
    assert.deepEqual(seen[0]?.body, { name: 'ci' });
  });

  it('keys list follows nextCursor and prints one table; keys delete prints `deleted key ID`', async () => {
    seen.length = 0;
    const r = await run(['keys', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      seen.map((x) => x.line),
      ['GET /v1/keys?limit=100', 'GET /v1/keys?limit=100&cursor=c1'],
    );
    assert.equal(
      r.stdout,
      [
        'ID     NAME             MAX ACTIVE JOBS  MAX CONCURRENCY  CREATED',
        'key_2  nightly crawler  5                200              2025-01-02T00:00:00.000Z',
        'key_1  ci               10               1000             2025-01-01T00:00:00.000Z',
        '',
      ].join('\n'),
    );
    seen.length = 0;
    const d = await run(['keys', 'delete', 'key_1']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, 'deleted key key_1\n');
    assert.deepEqual(
      seen.map((x) => x.line),
      ['DELETE /v1/keys/key_1'],
    );
    const missing = await run(['keys', 'delete', 'missing']);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'error: not_found: no key missing\n');
  });

  it('works with an API key’s token: its jobs, a 403 on keys, a 429 with its Retry-After', async () => {
    seen.length = 0;
    const s = await run(['status', 'jok', '--short', '--token', 'sfk_key']);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^jok (running|completed) \d\/3 settled/);
    const p = await run(['purge', 'jok'], { env: { SCRAPE_FANOUT_TOKEN: 'sfk_key' } });
    assert.equal(p.stdout, 'purged jok\n');
    assert.deepEqual(
      seen.map((x) => [x.line, x.headers.authorization]),
      [
        ['GET /v1/jobs/jok', 'Bearer sfk_key'],
        ['DELETE /v1/jobs/jok?purge=true', 'Bearer sfk_key'],
      ],
    );
    const k = await run(['keys', 'list', '--token', 'sfk_key']);
    assert.equal(k.code, 2);
    assert.equal(
      k.stderr,
      "error: forbidden: only the admin token may do this\nhint: this takes the admin token (API_TOKEN), not an API key's\n",
    );
    const busy = await run(['submit', '--url', 'https://busy.test/', '--token', 'sfk_key']);
    assert.equal(busy.code, 2);
    assert.equal(
      busy.stderr,
      'error: rate_limited: this API key has 1 active jobs, its maxActiveJobs; retry when one has ended\nhint: retry in 30 s\n',
    );
  });
}

function usageCases() {
  it('usage errors exit 2; --help exits 0', async () => {
    const r = await run(['submit']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no URLs given/);
    const u = await run(['submit', '--bogus']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /Unknown option '--bogus'/);
    const h = await run(['submit', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /--per-host N/);
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.match((await run([])).stdout, /Commands:/);
    assert.match((await run([])).stdout, /purge ID/);
  });

  it('keys and purge: usage errors exit 2 and send nothing; --help exits 0', async () => {
    seen.length = 0;
    const cases = [
      [['keys', 'frob'], 'error: unknown keys command "frob": expected create, list or delete'],
      [['keys', 'create'], 'error: expected a NAME (quote one with spaces)'],
      [['keys', 'create', 'a', 'b'], 'error: expected a NAME (quote one with spaces)'],
      [
        ['keys', 'create', 'a', '--max-active-jobs', 'lots'],
        'error: --max-active-jobs: expected an integer, got "lots"',
      ],
      [['keys', 'delete'], 'error: expected a key ID'],
      [['keys', 'list', 'extra'], 'error: expected no arguments'],
      [['purge'], 'error: expected a job ID'],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr, `${message}\nsee: scrape-fanout ${args[0]} --help\n`);
    }
    assert.deepEqual(seen, []);
    for (const args of [['keys'], ['keys', '--help'], ['keys', 'create', '--help']]) {
      const h = await run(args);
      assert.equal(h.code, 0, args.join(' '));
      assert.match(h.stdout, /--max-active-jobs N/);
    }
    const p = await run(['purge', '--help']);
    assert.equal(p.code, 0);
    assert.match(p.stdout, /^Usage: scrape-fanout purge ID\n/);
  });
}
