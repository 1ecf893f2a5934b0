// The dashboard's browser code (src/ui/client/*.ts, JavaScript kept in strings) outside a
// browser: it compiles, its parts share one scope without clashing names, and its pure parts
// (the event-stream parser, the histogram's bins) do what the pages rely on. The pages
// themselves are driven in Chromium by test/e2e/dashboard.e2e.test.mjs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { CORE_JS } from '../../src/ui/client/core.ts';
import { DASHBOARD_PAGE_JS } from '../../src/ui/client/dashboard-page.ts';
import { HISTOGRAM_JS } from '../../src/ui/client/histogram.ts';
import { JOB_PAGE_JS } from '../../src/ui/client/job-page.ts';
import { SSE_JS } from '../../src/ui/client/sse.ts';

const PARTS = { CORE_JS, SSE_JS, HISTOGRAM_JS, DASHBOARD_PAGE_JS, JOB_PAGE_JS };

/** The pure helpers, evaluated in a fresh context (they touch no DOM when defined). */
function helpers() {
  const code = `${CORE_JS}\n${SSE_JS}\n${HISTOGRAM_JS}\n({ SseParser, latencyBins, niceStep, fmtTime });`;
  return vm.runInNewContext(code, {});
}

describe('the dashboard script', () => {
  it('compiles part by part, and all parts together in one strict scope', () => {
    for (const [name, code] of Object.entries(PARTS)) {
      assert.doesNotThrow(() => new vm.Script(code), name);
    }
    const all = `(() => {'use strict';\n${Object.values(PARTS).join('\n')}\n})();`;
    assert.doesNotThrow(() => new vm.Script(all));
  });
});

describe('SseParser (browser copy)', () => {
  const { SseParser } = helpers();
  /** @param {string} text @param {number[]} cuts */
  const parseIn = (text, cuts = []) => {
    const p = new SseParser();
    const out = [];
    let at = 0;
    for (const cut of [...cuts, text.length]) {
      out.push(...p.push(text.slice(at, cut)));
      at = cut;
    }
    return JSON.parse(JSON.stringify(out));
  };

  it('gives the same events however the stream is split', () => {
    const text =
      'event: progress\r\ndata: {"a":1}\r\n\r\n: comment\nevent: end\ndata: {"a":\ndata: 2}\r\r';
    const whole = parseIn(text);
    assert.deepEqual(whole, [
      { event: 'progress', data: '{"a":1}' },
      { event: 'end', data: '{"a":\n2}' },
    ]);
    for (let i = 1; i < text.length; i++) assert.deepEqual(parseIn(text, [i]), whole, `at ${i}`);
  });

  it('drops an unfinished event and refuses one without bound', () => {
    assert.deepEqual(parseIn('data: a\n\ndata: b\n'), [{ event: 'message', data: 'a' }]);
    const p = new SseParser();
    assert.throws(() => p.push(`data: ${'x'.repeat(1_100_000)}`), /too large/);
  });
});

describe('latencyBins', () => {
  const h = helpers();
  const niceStep = (/** @type {number} */ raw) => h.niceStep(raw);
  /** Plain arrays of this realm, for deepEqual. @param {number[]} d @param {number} n */
  const latencyBins = (d, n) => JSON.parse(JSON.stringify(h.latencyBins(d, n)));
  const total = (/** @type {Array<{count: number}>} */ bins) =>
    bins.reduce((a, b) => a + b.count, 0);

  it('uses 1-2-5 steps of at least 1 ms', () => {
    assert.deepEqual(
      [0.2, 1, 1.5, 3, 7, 11, 99, 250].map(niceStep),
      [1, 1, 2, 5, 10, 20, 100, 500],
    );
  });

  it('counts every duration once, in at most the bins asked for', () => {
    assert.deepEqual(latencyBins([], 24), []);
    const small = latencyBins([0, 1, 1, 2, 5], 24);
    assert.deepEqual(
      small.map((/** @type {any} */ b) => [b.from, b.to, b.count]),
      [
        [0, 1, 1],
        [1, 2, 2],
        [2, 3, 1],
        [3, 4, 0],
        [4, 5, 0],
        [5, 6, 1],
      ],
    );
    const spread = Array.from({ length: 1000 }, (_, i) => i * 7);
    const bins = latencyBins(spread, 24);
    assert.ok(bins.length <= 24);
    assert.equal(total(bins), 1000);
  });

  it('puts the slowest 1% in an open last bin instead of stretching the axis', () => {
    const durations = [...Array.from({ length: 199 }, (_, i) => i % 100), 120_000];
    const bins = latencyBins(durations, 24);
    assert.equal(total(bins), 200);
    assert.equal(bins.at(-1).to, null);
    assert.ok(bins.at(-1).from <= 100, `last bin starts at ${bins.at(-1).from}`);
  });
});
