import { describe, expect, it } from 'vitest';
import { startInTurns } from '../../src/coordinator/shard-runs';

/** A pause the test releases by hand, one at a time, recording how many it was asked for. */
function manualPauses() {
  const waiting: Array<() => void> = [];
  return {
    pause: () => new Promise<void>((resolve) => waiting.push(resolve)),
    /** Lets the oldest pause end and the code after it run. */
    async release(): Promise<void> {
      waiting.shift()?.();
      // The continuation of startInTurns runs in a microtask after the pause resolves.
      await Promise.resolve();
      await Promise.resolve();
    },
    get asked(): number {
      return waiting.length;
    },
  };
}

describe('startInTurns (shard starts, one per turn of the thread)', () => {
  it('issues the first start at once and each next one only after a pause, in order', async () => {
    const pauses = manualPauses();
    const log: string[] = [];
    const done = startInTurns(
      ['a', 'b', 'c'].map((name) => () => log.push(name)),
      pauses.pause,
    );
    expect(log).toEqual(['a']);
    expect(pauses.asked).toBe(1);
    await pauses.release();
    expect(log).toEqual(['a', 'b']);
    await pauses.release();
    expect(log).toEqual(['a', 'b', 'c']);
    await done;
    expect(pauses.asked).toBe(0);
  });

  it('makes no pause for a single start, and none before the first', async () => {
    const pauses = manualPauses();
    const log: number[] = [];
    await startInTurns([() => log.push(1)], pauses.pause);
    expect(log).toEqual([1]);
    expect(pauses.asked).toBe(0);
    await startInTurns([], pauses.pause);
    expect(pauses.asked).toBe(0);
  });

  it('by default lets a timer that was due run between two starts', async () => {
    const log: string[] = [];
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        log.push('timer');
        resolve();
      }, 0),
    );
    await startInTurns([() => log.push('first'), () => log.push('second')]);
    await timer;
    expect(log).toEqual(['first', 'timer', 'second']);
  });
});
