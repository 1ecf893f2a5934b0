import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timelineStats } from '../../scripts/lib/timeline-stats.mjs';

const T0 = 1_000_000;
/** A request of the job: started `s`, ended `e` ms after T0. */
const span = (s, e) => /** @type {[number, number]} */ ([T0 + s, T0 + e]);

describe('timelineStats (scripts/lib/timeline-stats.mjs)', () => {
  // Two connections, 100 ms pages: one starts at 10 ms, the other at 30 ms; each is reused
  // 5 ms after its response; the second ends its last page 40 ms after the first.
  const spans = [span(10, 110), span(30, 130), span(115, 215), span(135, 235), span(220, 320)];
  const stats = timelineStats(spans, T0, 2, 100);

  it('gives the ramp (the first C starts) and the drain (idle after the last C responses)', () => {
    assert.deepEqual(
      [stats.firstStartMs, stats.rampMeanMs, stats.rampLastMs, stats.lastEndMs],
      [10, 20, 30, 320],
    );
    // The last two responses end at 235 and 320: one connection idles 85 ms, the other none.
    assert.equal(stats.drainMeanMs, 42.5);
  });

  it('pairs each request after the first C with the response that freed its connection', () => {
    assert.deepEqual(stats.lagMs, [5, 5, 5]);
  });

  it('averages the requests in flight per window', () => {
    // 0-99: one from 10, one from 30 = (90 + 70) / 100; 100-199: 10+30+85+65 over 100 ms.
    assert.deepEqual(stats.inFlight.slice(0, 2), [1.6, 1.9]);
    assert.equal(stats.inFlight.length, 4);
  });

  it('is empty-safe', () => {
    const none = timelineStats([], T0, 4, 100);
    assert.deepEqual([none.lagMs, none.inFlight], [[], []]);
    assert.ok(Number.isNaN(none.rampMeanMs) && Number.isNaN(none.drainMeanMs));
  });
});
