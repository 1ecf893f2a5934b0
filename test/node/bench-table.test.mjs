import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tableLines } from '../../scripts/lib/table.mjs';

describe('the benchmarks table (scripts/lib/table.mjs)', () => {
  it('left-aligns the first column, right-aligns the rest, and rules off the head', () => {
    const lines = tableLines(
      ['name', 'wall s', 'ok'],
      [
        ['mid', '2.28', 'yes'],
        ['aiohttp-raw', '12.16', 'NO'],
      ],
    );
    assert.deepEqual(lines, [
      'name         wall s   ok',
      '-----------  ------  ---',
      'mid            2.28  yes',
      'aiohttp-raw   12.16   NO',
    ]);
  });

  it('sizes a column by its head when every cell is shorter', () => {
    assert.deepEqual(tableLines(['scenario', 'x floor'], [['a', '1.1']]), [
      'scenario  x floor',
      '--------  -------',
      'a             1.1',
    ]);
  });
});
