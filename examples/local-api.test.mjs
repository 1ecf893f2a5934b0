// The Node API, end to end and with no server: a tiny site on node:http, one job run through
// `startLocal` (the worker in an embedded runtime), and the Results it gives.
//   node --test examples/local-api.test.mjs     (Node >= 22; `npm test` runs it)
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startLocal } from 'scrape-fanout/local';

/** Requests per path, to see the retry the runtime made. */
const hits = new Map();

const site = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://site').pathname;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  const html = (/** @type {number} */ status, /** @type {string} */ body) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html><head>${body}</html>`);
  };
  if (path === '/') {
    html(
      200,
      '<title>Home</title></head><body><h1>Welcome</h1><a href="/a">a</a><a href="/b">b</a>',
    );
  } else if (path === '/about') {
    html(200, '<title>About us</title></head><body><h1>About</h1>');
  } else if (path === '/old') {
    res.writeHead(301, { location: '/about' });
    res.end();
  } else if (path === '/busy') {
    // 503 the first time: the job retries it (a durable retry, through the object's alarm).
    if (hits.get(path) === 1) html(503, '<title>Busy</title></head><body>');
    else html(200, '<title>Not busy</title></head><body><h1>Now</h1>');
  } else if (path === '/slow') {
    // Answers only when the client gives up.
  } else {
    html(404, '<title>Not found</title></head><body>');
  }
});

/** @type {string} */
let base;
/** @type {import('scrape-fanout/local').LocalScrapeFanout} */
let local;

before(async () => {
  await new Promise((resolve) => site.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = site.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  local = await startLocal(); // a fresh state directory, removed by close()
});

after(async () => {
  await local?.close();
  site.closeAllConnections();
  site.close();
});

test('a job runs in-process and every URL gets its Result', async () => {
  const urls = ['/', '/about', '/old', '/busy', '/gone'].map((p) => `${base}${p}`);
  const job = await local.submit({
    urls,
    concurrency: 4,
    retry: { maxAttempts: 3, baseDelayMs: 100 },
    extract: { selectors: { heading: 'h1' } },
  });
  assert.equal(job.accepted, 5);

  const byUrl = new Map();
  for await (const result of local.results(job.id)) byUrl.set(result.url, result);
  assert.deepEqual([...byUrl.keys()].sort(), [...urls].sort());

  const home = byUrl.get(`${base}/`);
  assert.equal(home.ok, true);
  assert.equal(home.title, 'Home');
  assert.equal(home.links, 2);
  assert.deepEqual(home.data, { heading: 'Welcome' });

  const moved = byUrl.get(`${base}/old`);
  assert.equal(moved.ok, true);
  assert.equal(moved.finalUrl, `${base}/about`);
  assert.equal(moved.title, 'About us');

  const busy = byUrl.get(`${base}/busy`);
  assert.equal(busy.ok, true);
  assert.equal(busy.attempts, 2);
  assert.equal(hits.get('/busy'), 2);

  const gone = byUrl.get(`${base}/gone`);
  assert.equal(gone.ok, false);
  assert.equal(gone.status, 404);
  assert.equal(gone.error?.kind, 'http_status');

  const view = await local.wait(job.id, { timeoutMs: 10_000 });
  assert.equal(view.status, 'completed');
  assert.deepEqual(
    [view.counts.total, view.counts.succeeded, view.counts.failed, view.counts.cancelled],
    [5, 4, 1, 0],
  );
});

test('wait gives up after its timeout, and cancel ends the job', async () => {
  const job = await local.submit({ urls: [`${base}/slow`] });
  await assert.rejects(local.wait(job.id, { timeoutMs: 200 }), { name: 'TimeoutError' });
  const view = await local.cancel(job.id);
  assert.equal(view.status, 'cancelled');
  const results = [];
  for await (const result of local.results(job.id)) results.push(result);
  assert.deepEqual(
    results.map((r) => [r.url, r.ok, r.error?.kind]),
    [[`${base}/slow`, false, 'cancelled']],
  );
});
