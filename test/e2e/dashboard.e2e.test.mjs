// The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against the
// real stack: `wrangler dev` on a free port and the local origin, started the way the benches
// start them (scripts/lib/harness.mjs). It submits a job through the form, follows it to
// `completed`, reads its counts, histogram and tables, then cancels a job of pages that never
// answer from its page; it also runs axe-core on both pages. Screenshots go to
// test/e2e/artifacts/. Without /usr/bin/chromium (CHROMIUM_PATH overrides) the file is skipped,
// except under CI, where that is a failure.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  freePort,
  freshStateDir,
  getJob,
  ROOT,
  sleep,
  startOrigin,
  startServer,
  submitJob,
  TOKEN,
} from '../../scripts/lib/harness.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test', 'e2e', 'artifacts');
const WAIT_MS = 30_000;
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI) {
  throw new Error(`${CHROMIUM} is missing: CI must install chromium (see .ci/run)`);
}

/**
 * Records every status #job-status shows, in order, from the page's first paint: the order of
 * what the page saw is asserted, not how long it took.
 */
function recordStatuses() {
  const w = /** @type {any} */ (window);
  w.__statuses = [];
  document.addEventListener('DOMContentLoaded', () => {
    const node = document.getElementById('job-status');
    if (!node) return;
    const note = () => {
      const s = node.textContent;
      if (w.__statuses.at(-1) !== s) w.__statuses.push(s);
    };
    note();
    new MutationObserver(note).observe(node, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

describe('the dashboard in Chromium', { skip: missing && `${CHROMIUM} is missing` }, () => {
  /** @type {Awaited<ReturnType<typeof startServer>>} */
  let server;
  /** @type {Awaited<ReturnType<typeof startOrigin>>} */
  let origin;
  /** @type {import('playwright-core').Browser} */
  let browser;
  /** @type {import('playwright-core').Page} */
  let page;
  let stateDir = '';
  /** Problems the page reported: script errors, CSP violations, failed loads. */
  const problems = [];
  /** Every URL the page asked for, and whether an /v1 call carried the token. */
  const requests = [];

  before(async () => {
    const { chromium } = await import('playwright-core');
    mkdirSync(ARTIFACTS, { recursive: true });
    stateDir = freshStateDir('scrape-fanout-e2e-');
    const logPath = join(ARTIFACTS, 'server.log');
    rmSync(logPath, { force: true });
    [origin, server] = await Promise.all([
      startOrigin({ latencyMs: 0 }),
      freePort().then((port) => startServer({ port, persistDir: stateDir, logPath })),
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(recordStatuses);
    page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    page.on('request', (req) => {
      requests.push({ url: req.url(), auth: req.headers().authorization ?? null });
    });
  });

  after(async () => {
    await browser?.close();
    await server?.kill();
    await origin?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const text = async (/** @type {string} */ selector) =>
    (await page.locator(selector).textContent()) ?? '';
  const statuses = () => page.evaluate(() => /** @type {any} */ (window).__statuses);
  const waitForText = (/** @type {string} */ selector, /** @type {string} */ want) =>
    page.waitForFunction(
      ([sel, w]) => document.querySelector(sel)?.textContent === w,
      [selector, want],
      { timeout: WAIT_MS },
    );

  it('takes the token once, keeps it in sessionStorage and never in a URL', async () => {
    await page.goto(`${server.base}/`);
    assert.equal(await page.locator('#need-token').isVisible(), true);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByLabel('API token').press('Enter');
    await page.locator('#token-set').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#need-token').isVisible(), false);
    const stored = await page.evaluate(() => sessionStorage.getItem('scrape-fanout.token'));
    assert.equal(stored, TOKEN);
    assert.equal(await page.getByLabel('API token').inputValue(), '');
    assert.doesNotMatch(page.url(), new RegExp(TOKEN));
  });

  it('submits a job from the form and follows it to completed', async () => {
    const tag = `e2e-${Date.now()}`;
    const at = (/** @type {string} */ path) => `${origin.baseUrl()}${path}&tag=${tag}`;
    const hostile = '<img src=x onerror=alert(1)> & "quoted"';
    const urls = [
      ...Array.from({ length: 26 }, (_, i) => at(`/page?title=Page+${i}&links=${i % 5}`)),
      at(`/page?title=${encodeURIComponent(hostile)}`),
      at('/status/404?n=1'),
      at('/status/404?n=2'),
      at('/status/503?n=3'),
    ];
    await page.getByLabel('URLs, one per line').fill(urls.join('\n'));
    await page.getByLabel('Concurrency').fill('8');
    await page.getByLabel('Timeout per attempt (ms)').fill('5000');
    await page.getByLabel('Attempts per URL (retry.maxAttempts)').fill('2');
    await page.getByLabel('Attempts per URL (retry.maxAttempts)').press('Enter');
    await page.waitForURL(/\/jobs\/j[0-9a-z]+$/, { timeout: WAIT_MS });
    const id = page.url().split('/').at(-1) ?? '';
    assert.equal(await text('#job-id'), id);

    await waitForText('#job-status', 'completed');
    await waitForText('#stream-state', 'ended');
    const seen = await statuses();
    assert.equal(seen.at(-1), 'completed');
    const order = ['unknown', 'queued', 'running', 'completed'];
    const ranks = seen.map((/** @type {string} */ s) => order.indexOf(s));
    assert.ok(
      ranks.every((r, i) => r >= 0 && (i === 0 || r > ranks[i - 1])),
      seen.join(' > '),
    );

    assert.equal(await text('#count-total'), '30');
    assert.equal(await text('#count-succeeded'), '27');
    assert.equal(await text('#count-failed'), '3');
    assert.equal(await text('#count-cancelled'), '0');
    assert.equal(await text('#progress-label'), '30 of 30 settled (100%)');
    const bar = await page.locator('#job-progress').evaluate((p) => [p.value, p.max]);
    assert.deepEqual(bar, [30, 30]);

    await page.waitForFunction(
      () => document.querySelectorAll('#results-body tr').length === 30,
      null,
      {
        timeout: WAIT_MS,
      },
    );
    const barCounts = await page
      .locator('#histogram svg rect.bar')
      .evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('data-count'))));
    assert.ok(barCounts.length >= 1, 'the histogram has bars');
    assert.equal(
      barCounts.reduce((a, b) => a + b, 0),
      30,
    );
    const tall = await page
      .locator('#histogram svg rect.bar')
      .evaluateAll((rects) => rects.filter((r) => Number(r.getAttribute('height')) > 0).length);
    assert.ok(tall >= 1);

    const kinds = await page
      .locator('#kinds-body tr')
      .evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    assert.deepEqual(kinds, [['http_status', '3']]);

    const rows = await page
      .locator('#results-body tr')
      .evaluateAll((trs) => trs.map((r) => [...r.cells].map((c) => c.textContent ?? '')));
    assert.deepEqual(rows.map((r) => r[0]).sort(), [...urls].sort());
    const hostileRow = rows.find((r) => r[2] === hostile);
    assert.ok(hostileRow, 'the hostile title is shown as text');
    assert.equal(await page.locator('#results-body img').count(), 0);
    assert.deepEqual(
      rows
        .filter((r) => r[6] === 'http_status')
        .map((r) => r[1])
        .sort(),
      ['404', '404', '503'],
    );

    const failures = page.locator('#failures-body tr');
    await page.waitForFunction(
      () => document.querySelector('#failures-body')?.textContent?.includes('#1 http_status 503'),
      null,
      { timeout: WAIT_MS },
    );
    assert.equal(await failures.count(), 3);
    const retried = (await failures.filter({ hasText: '/status/503' }).textContent()) ?? '';
    assert.match(retried, /#1 http_status 503/);
    await page.screenshot({ path: join(ARTIFACTS, 'job-completed.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'job-completed-full.png'), fullPage: true });

    await page.getByRole('link', { name: 'All jobs' }).click();
    const row = page.locator(`#jobs-body tr[data-job="${id}"]`);
    await row.waitFor({ timeout: WAIT_MS });
    await page.waitForFunction(
      (jobId) =>
        document.querySelector(`tr[data-job="${jobId}"] .status`)?.textContent === 'completed',
      id,
      { timeout: WAIT_MS },
    );
    const cells = await row.evaluate((r) => [...r.children].map((c) => c.textContent));
    assert.deepEqual(cells.slice(0, 2), [id, 'completed']);
    assert.deepEqual(cells.slice(3, 6), ['27', '3', '0']);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });

    // The same URLs again, compared with this job: the page says what changed.
    const again = await submitJob(server.base, {
      urls,
      retry: { maxAttempts: 2 },
      compareWith: id,
    });
    await page.goto(`${server.base}/jobs/${again.id}`);
    await waitForText('#job-status', 'completed');
    await waitForText('#job-changes', `0 changed, 27 unchanged, 0 new, 0 gone (against ${id})`);
  });

  it('moves the deadline of a job of pages that never answer, then cancels it', async () => {
    const tag = `e2e-gate-${Date.now()}`;
    const urls = Array.from({ length: 5 }, (_, i) => `${origin.baseUrl()}/gate?tag=${tag}&n=${i}`);
    const { id } = await submitJob(server.base, { urls, concurrency: 5, timeoutMs: 60_000 });
    await page.goto(`${server.base}/jobs/${id}`);
    await waitForText('#job-status', 'running');
    await waitForText('#count-inFlight', '5');
    // The page counts fetches the shards report started; the origin may see them a moment later.
    for (let i = 0; i < 50 && (await origin.stats(tag)).inFlight < 5; i++) await sleep(100);
    assert.equal((await origin.stats(tag)).inFlight, 5);
    assert.equal(await text('#job-deadline'), 'none');
    assert.equal(await text('#job-changes'), 'not compared');

    await page.getByLabel('Deadline (seconds after the job was created)').fill('3600');
    await page.getByLabel('Deadline (seconds after the job was created)').press('Enter');
    await page.waitForFunction(
      () => document.querySelector('#job-deadline')?.textContent !== 'none',
      null,
      {
        timeout: WAIT_MS,
      },
    );
    const moved = await getJob(server.base, id);
    assert.equal(Date.parse(moved.deadlineAt ?? '') - Date.parse(moved.createdAt ?? ''), 3_600_000);

    await page.getByRole('button', { name: 'Cancel job' }).click();
    const keep = page.getByRole('button', { name: 'Keep it running' });
    assert.equal(await keep.evaluate((b) => b === document.activeElement), true);
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await waitForText('#job-status', 'cancelled');
    await waitForText('#count-cancelled', '5');
    const seen = await statuses();
    assert.deepEqual(seen.slice(-2), ['running', 'cancelled']);
    assert.ok(!seen.includes('completed'));
    assert.equal((await getJob(server.base, id)).status, 'cancelled');
    assert.equal(await page.getByRole('button', { name: 'Cancel job' }).isDisabled(), true);
    await page.waitForFunction(
      () => document.querySelectorAll('#results-body tr').length === 5,
      null,
      {
        timeout: WAIT_MS,
      },
    );
    for (let i = 0; i < 50 && (await origin.stats(tag)).inFlight > 0; i++) await sleep(100);
    const stats = await origin.stats(tag);
    assert.deepEqual([stats.requests, stats.inFlight, stats.aborted], [5, 0, 5]);
    await page.screenshot({ path: join(ARTIFACTS, 'job-cancelled.png') });
  });

  it('passes axe-core (WCAG 2 A and AA) on both pages, and shows keyboard focus', async () => {
    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const pages = [
      ['/', '#jobs-body tr'],
      ...(await jobPaths()).map((p) => [p, '#results-body tr']),
    ];
    for (const [path, filled] of pages) {
      await page.goto(`${server.base}${path}`);
      await page.locator(filled).first().waitFor({ timeout: WAIT_MS });
      await page.evaluate(axe);
      const violations = await page.evaluate(async () => {
        const r = await /** @type {any} */ (window).axe.run(document, {
          runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'],
        });
        return r.violations.map((/** @type {any} */ v) => `${v.id}: ${v.nodes.length} node(s)`);
      });
      assert.deepEqual(violations, [], `axe on ${path}`);
    }
    await page.goto(`${server.base}/`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.locator('#job-submit').focus();
    const outline = await page
      .locator('#job-submit')
      .evaluate((b) => [getComputedStyle(b).outlineStyle, getComputedStyle(b).outlineWidth]);
    assert.deepEqual(outline, ['solid', '3px']);
  });

  it('reported no script error or CSP violation, and sent the token only in headers', () => {
    assert.deepEqual(problems, []);
    assert.ok(requests.length > 0);
    for (const r of requests) assert.doesNotMatch(r.url, new RegExp(TOKEN), r.url);
    const v1 = requests.filter((r) => new URL(r.url).pathname.startsWith('/v1/'));
    assert.ok(v1.length > 0);
    for (const r of v1) assert.equal(r.auth, `Bearer ${TOKEN}`, r.url);
  });

  /** The job pages the dashboard links to (the two jobs above). */
  async function jobPaths() {
    const res = await fetch(`${server.base}/v1/jobs?limit=2`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = /** @type {{ items: Array<{ id: string }> }} */ (await res.json());
    return body.items.map((j) => `/jobs/${j.id}`);
  }
});
