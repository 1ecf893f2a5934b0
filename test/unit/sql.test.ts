import { describe, expect, it } from 'vitest';
import { LIST, Sql, SqlError } from '../../src/lib/sql';

type Call = { query: string; params: unknown[] };

/** SqlStorage's exec, recorded: every statement answers one row per bound id. */
function recordingStorage(calls: Call[], fail = false): SqlStorage {
  return {
    exec(query: string, ...params: unknown[]) {
      calls.push({ query, params });
      if (fail) throw new Error('no such table: nope');
      const rows = params.filter((p) => typeof p === 'number').map((id) => ({ id }));
      return {
        toArray: () => rows,
        rowsWritten: rows.length,
        [Symbol.iterator]: () => rows[Symbol.iterator](),
      };
    },
  } as unknown as SqlStorage;
}

const placeholdersIn = (query: string) => (query.match(/\?/g) ?? []).length;

describe('Sql.inList', () => {
  it('splits a long id list to stay within 100 bound parameters, fixed ones first', () => {
    const calls: Call[] = [];
    const ids = Array.from({ length: 250 }, (_, i) => i);
    const rows = new Sql(recordingStorage(calls)).inList(
      `UPDATE t SET shard = ? WHERE idx IN (${LIST}) RETURNING idx`,
      [7],
      ids,
    );
    expect(calls.map((c) => c.params.length)).toEqual([100, 100, 100]);
    expect(calls.map((c) => placeholdersIn(c.query))).toEqual([100, 100, 100]);
    for (const c of calls) expect(c.params[0]).toBe(7);
    // Every id bound exactly once, in order; the last list padded with NULL, which IN never
    // matches. The fixed 7 comes back as a row of the fake, not of the list.
    const bound = calls.flatMap((c) => c.params.slice(1)).filter((p) => p !== null);
    expect(bound).toEqual(ids);
    expect(calls[2]?.params.slice(1).filter((p) => p === null)).toHaveLength(99 - 52);
    expect(rows).toHaveLength(250 + 3);
  });

  it('pads short lists to a few fixed widths, so few statement texts are prepared', () => {
    const calls: Call[] = [];
    const sql = new Sql(recordingStorage(calls));
    for (const n of [1, 5, 8, 9, 32, 33]) {
      sql.inList(
        `UPDATE t SET x = 1 WHERE idx IN (${LIST})`,
        [],
        Array.from({ length: n }, (_, i) => i),
      );
    }
    expect(calls.map((c) => placeholdersIn(c.query))).toEqual([8, 8, 8, 32, 32, 100]);
  });

  it('runs nothing for an empty list', () => {
    const calls: Call[] = [];
    expect(
      new Sql(recordingStorage(calls)).inList(`DELETE FROM t WHERE idx IN (${LIST})`, [], []),
    ).toEqual([]);
    expect(calls).toHaveLength(0);
  });
});

describe('Sql.insertRows', () => {
  it('puts as many rows in one statement as 100 parameters allow', () => {
    const calls: Call[] = [];
    const rows = Array.from({ length: 40 }, (_, i) => [i, 'a', 'b', 0, 0, '{}']);
    new Sql(recordingStorage(calls)).insertRows(
      'INSERT INTO r (a, b, c, d, e, f) VALUES',
      rows,
      'RETURNING a',
    );
    // 16 rows of 6 parameters is 96; a 17th would be 102.
    expect(calls.map((c) => c.params.length)).toEqual([96, 96, 48]);
    expect(calls[0]?.query).toMatch(
      /^INSERT INTO r \(a, b, c, d, e, f\) VALUES \(\?, \?, \?, \?, \?, \?\), /,
    );
    expect(calls[0]?.query.endsWith(' RETURNING a')).toBe(true);
    expect(calls.flatMap((c) => c.params.filter((_, i) => i % 6 === 0))).toEqual(
      rows.map((r) => r[0]),
    );
  });
});

describe('SqlError', () => {
  it('carries the statement that failed', () => {
    const sql = new Sql(recordingStorage([], true));
    expect(() => sql.run('SELECT * FROM nope')).toThrow(SqlError);
    expect(() => sql.run('SELECT * FROM nope')).toThrow(
      'no such table: nope [in: SELECT * FROM nope]',
    );
  });
});
