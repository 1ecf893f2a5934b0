// `scrape-fanout body ID HASH` and `--store-bodies`, against a fake API (a plain Node server).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JOB_OPTIONS, jobBody } from '../../bin/lib/job-options.mjs';

const CLI = fileURLToPath(new URL('../../bin/scrape-fanout.mjs', import.meta.url));
const HASH = 'ab'.repeat(32);
/** Bytes that are not UTF-8 text: the CLI must pass them through untouched. */
const BODY = Buffer.from([0x3c, 0x68, 0x31, 0x3e, 0xff, 0xfe, 0x00, 0x80, 0x0a]);

/** `METHOD path` of each request the fake API saw. */
const seen = [];
const server = http.createServer((req, res) => {
  seen.push(`${req.method} ${req.url}`);
  if (req.url === `/v1/jobs/jok/bodies/${HASH}` && req.headers.authorization === 'Bearer t0k') {
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': BODY.length });
    return res.end(BODY);
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { code: 'not_found', message: 'job jok stored no body' } }));
});

let base = '';
before(async () => {
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
after(() => server.close());

/**
 * Runs the CLI; resolves to its exit code and output (stdout as bytes).
 * @param {string[]} args
 * @returns {Promise<{ code: number, stdout: Buffer, stderr: string }>}
 */
function run(args) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { ...process.env, SCRAPE_FANOUT_URL: base, SCRAPE_FANOUT_TOKEN: 't0k' },
        encoding: 'buffer',
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr: stderr.toString() }),
    );
  });
}

describe('scrape-fanout body', () => {
  it('writes the stored bytes to stdout as they came, the hash with or without sha256:', async () => {
    seen.length = 0;
    const plain = await run(['body', 'jok', HASH]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(plain.stdout, BODY);
    const prefixed = await run(['body', 'jok', `sha256:${HASH.toUpperCase()}`]);
    assert.equal(prefixed.code, 0, prefixed.stderr);
    assert.deepEqual(prefixed.stdout, BODY);
    assert.deepEqual(seen, [`GET /v1/jobs/jok/bodies/${HASH}`, `GET /v1/jobs/jok/bodies/${HASH}`]);
  });

  it('writes to --out FILE', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'cli-body-')), 'page.html');
    const r = await run(['body', 'jok', HASH, '--out', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0);
    assert.deepEqual(await readFile(file), BODY);
  });

  it('a body the job did not store is the API error, exit 2', async () => {
    const r = await run(['body', 'jok', 'cd'.repeat(32)]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: not_found: job jok stored no body\n');
  });

  it('usage errors exit 2 and send nothing; --help exits 0', async () => {
    seen.length = 0;
    for (const args of [
      ['body', 'jok'],
      ['body', 'jok', 'xyz'],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /see: scrape-fanout body --help\n$/);
    }
    assert.deepEqual(seen, []);
    const h = await run(['body', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout.toString(), /^Usage: scrape-fanout body ID HASH/);
    assert.match((await run([])).stdout.toString(), /body ID HASH/);
  });
});

describe('--store-bodies', () => {
  it('asks the job to store its bodies; left out, the field is not sent', () => {
    const flags = (args) => parseArgs({ args, options: JOB_OPTIONS }).values;
    assert.deepEqual(jobBody(flags(['--store-bodies']), ['https://a.test/']), {
      urls: ['https://a.test/'],
      store: { bodies: true },
    });
    assert.equal('store' in jobBody(flags([]), ['https://a.test/']), false);
  });
});
