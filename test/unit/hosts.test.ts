import { describe, expect, it } from 'vitest';
import { HostTable } from '../../src/coordinator/hosts';
import type { Sql } from '../../src/lib/sql';

interface StoredHost {
  host: string;
  lim: number | null;
  blocked_until: number;
  robots: string | null;
}

/**
 * The hosts table in memory, as HostTable reads and writes it: rows by id, and every
 * `UPDATE hosts SET lim = ?, blocked_until = ? WHERE id = ?` recorded with its parameters.
 */
function fakeSql(rows: Record<number, StoredHost>) {
  const limWrites: Array<[number, number, number]> = [];
  const sql = {
    one: (query: string, ...params: unknown[]) => {
      if (query.includes('WHERE id = ?')) return rows[params[0] as number] ?? null;
      // The constructor's "any host throttled so far" probe.
      const any = Object.values(rows).some((r) => r.lim !== null || r.blocked_until > 0);
      return any ? { x: 1 } : null;
    },
    all: () => [],
    run: (query: string, ...params: unknown[]) => {
      if (query.startsWith('UPDATE hosts SET lim = ?, blocked_until = ? WHERE id = ?')) {
        const [lim, until, id] = params as [number, number, number];
        limWrites.push([lim, until, id]);
        const row = rows[id];
        if (row) Object.assign(row, { lim, blocked_until: until });
      }
      return 0;
    },
  } as unknown as Sql;
  return { sql, limWrites };
}

const fresh = (host: string): StoredHost => ({ host, lim: null, blocked_until: 0, robots: null });

describe('HostTable: throttling', () => {
  it('halves a host limit on each throttle signal, down to one, and stores it', () => {
    const { sql, limWrites } = fakeSql({ 1: fresh('a:80') });
    // perHostConcurrency 4 of a job of concurrency 8.
    const hosts = new HostTable(sql, 4, 8, false);
    const h = hosts.get(1);
    expect(h.limit).toBe(4);
    hosts.throttle(h, null, 1_000);
    expect(h.limit).toBe(2);
    hosts.throttle(h, null, 1_000);
    expect(h.limit).toBe(1);
    hosts.throttle(h, null, 1_000);
    expect(h.limit).toBe(1);
    expect(limWrites).toEqual([
      [2, 0, 1],
      [1, 0, 1],
      [1, 0, 1],
    ]);
  });

  it('a halved limit binds the hand-outs of that host', () => {
    const { sql } = fakeSql({ 1: fresh('a:80') });
    const hosts = new HostTable(sql, 4, 8, false);
    const h = hosts.get(1);
    for (let i = 0; i < 2; i++) hosts.claim(h);
    expect(hosts.canTake(h, 0)).toBe(true);
    hosts.throttle(h, null, 0);
    expect(hosts.canTake(h, 0)).toBe(false);
    expect(hosts.unavailable(0)).toEqual([1]);
    hosts.release(h);
    expect(hosts.canTake(h, 0)).toBe(true);
  });

  it('holds the host back for its Retry-After, and lets it go after', () => {
    const { sql, limWrites } = fakeSql({ 1: fresh('a:80') });
    const hosts = new HostTable(sql, 4, 8, false);
    const h = hosts.get(1);
    hosts.throttle(h, 5_000, 1_000);
    expect(limWrites).toEqual([[2, 6_000, 1]]);
    expect(hosts.canTake(h, 5_999)).toBe(false);
    expect(hosts.holds(5_999)).toEqual([{ host: 'a:80', until: 6_000 }]);
    expect(hosts.canTake(h, 6_000)).toBe(true);
    expect(hosts.holds(6_000)).toEqual([]);
    expect(hosts.unconstrained).toBe(false);
  });

  it('raises a lowered limit by 1/limit per success, up to perHostConcurrency', () => {
    const { sql, limWrites } = fakeSql({ 1: fresh('a:80') });
    const hosts = new HostTable(sql, 4, 8, false);
    const h = hosts.get(1);
    hosts.throttle(h, null, 0);
    hosts.throttle(h, null, 0);
    limWrites.length = 0;
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      hosts.recover(h);
      seen.push(h.limit);
    }
    // 1 -> 2 -> 2.5 -> 2.9 -> 3.24... -> 4, and no write once at the maximum.
    expect(seen.slice(0, 3)).toEqual([2, 2.5, 2.9]);
    expect(seen.at(-1)).toBe(4);
    expect(limWrites.at(-1)?.[0]).toBe(4);
    expect(limWrites.length).toBeLessThan(8);
  });

  it('reads a stored limit and hold-back after a restart', () => {
    const { sql } = fakeSql({ 1: { host: 'a:80', lim: 1.5, blocked_until: 9_000, robots: null } });
    const hosts = new HostTable(sql, 4, 8, false);
    expect(hosts.unconstrained).toBe(false);
    const h = hosts.get(1);
    expect(h).toMatchObject({ limit: 1.5, blockedUntil: 9_000 });
    hosts.throttle(h, null, 10_000);
    expect(h.limit).toBe(1);
  });
});
