import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StallWatch } from '../../scripts/lib/stall-watch.mjs';

/** A StallWatch whose profile capture is recorded instead of run. */
function watch(quietMs = 1_000) {
  /** @type {Array<{ seconds: number, out: string }>} */
  const captured = [];
  const w = new StallWatch({
    quietMs,
    out: '/tmp/x-stall.cpuprofile',
    capture: async (seconds, out) => {
      captured.push({ seconds, out });
      return 'heaviest functions by self time:\n 90%  spin';
    },
  });
  return { w, captured };
}

const at = (/** @type {number} */ succeeded) => ({
  status: 'running',
  counts: { succeeded, failed: 0, cancelled: 0 },
});

describe('StallWatch (benchmark stall profiles)', () => {
  it('profiles once when no URL settles for quietMs, counting failed reads as no progress', async () => {
    const { w, captured } = watch(1_000);
    assert.equal(await w.observe(at(10), 0), null);
    assert.equal(await w.observe(at(10), 600), null);
    assert.equal(await w.observe(null, 999), null);
    const note = await w.observe(null, 1_000);
    assert.match(
      note ?? '',
      /^no URL settled for 1\.0 s \(at 10\); profile \/tmp\/x-stall\.cpuprofile:/,
    );
    assert.match(note ?? '', /90% {2}spin/);
    assert.deepEqual(captured, [{ seconds: 3, out: '/tmp/x-stall.cpuprofile' }]);
    assert.equal(await w.observe(at(10), 5_000), null);
    assert.equal(captured.length, 1);
  });

  it('restarts the quiet time whenever a URL settles, failed and cancelled ones too', async () => {
    const { w, captured } = watch(1_000);
    await w.observe(at(1), 0);
    await w.observe({ counts: { succeeded: 1, failed: 1 } }, 900);
    await w.observe({ counts: { succeeded: 1, failed: 1, cancelled: 1 } }, 1_800);
    assert.equal(
      await w.observe({ counts: { succeeded: 1, failed: 1, cancelled: 1 } }, 2_700),
      null,
    );
    assert.equal(captured.length, 0);
  });
});
