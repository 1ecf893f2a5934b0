import type { RobotsRules } from '../lib/robots';
import type { Sql } from '../lib/sql';

/** Robots state of a host: unknown, being fetched by a shard, or known rules. */
export type RobotsState = null | { pending: number } | RobotsRules;

export interface HostState {
  id: number;
  host: string;
  /** Adaptive limit (AutoThrottle-style): lowered on 429/503, raised slowly on success. */
  lim: number;
  leased: number;
  blockedUntil: number;
  robots: RobotsState;
}

const MIN_LIMIT = 1;

/**
 * Per-host politeness state of one job. Rows live in SQLite; hot entries are cached. `leased`
 * is never persisted: after a restart it is rebuilt from the leased URL rows.
 */
export class HostTable {
  readonly #sql: Sql;
  readonly #cache = new Map<number, HostState>();
  #maxLimit: number;
  #concurrency: number;

  constructor(sql: Sql, perHostConcurrency: number, concurrency: number) {
    this.#sql = sql;
    this.#maxLimit = perHostConcurrency;
    this.#concurrency = concurrency;
  }

  /** Rebuilds in-memory leased counts from the URL table (start-up only). */
  loadLeases(): void {
    const rows = this.#sql.all<{ host_id: number; n: number }>(
      'SELECT host_id, count(*) AS n FROM urls WHERE state = 1 GROUP BY host_id',
    );
    for (const r of rows) this.get(r.host_id).leased = r.n;
  }

  /** The host's state (loaded on first use). */
  get(id: number): HostState {
    const hit = this.#cache.get(id);
    if (hit) return hit;
    const row = this.#sql.one<{
      host: string;
      lim: number | null;
      blocked_until: number;
      robots: string | null;
    }>('SELECT host, lim, blocked_until, robots FROM hosts WHERE id = ?', id);
    const state: HostState = {
      id,
      host: row?.host ?? '',
      lim: row?.lim ?? this.#maxLimit,
      leased: 0,
      blockedUntil: row?.blocked_until ?? 0,
      robots: row?.robots ? (JSON.parse(row.robots) as RobotsRules) : null,
    };
    this.#cache.set(id, state);
    return state;
  }

  /**
   * The leased-URL cap that applies to a host. A limit at or above the job's concurrency can
   * never bind, so it is not applied to leases: shards may then prefetch work for that host.
   */
  #cap(h: HostState): number {
    return h.lim >= this.#concurrency ? Number.POSITIVE_INFINITY : Math.floor(h.lim);
  }

  /** Whether one more URL of this host may be handed out now. */
  canTake(h: HostState, now: number): boolean {
    return h.blockedUntil <= now && h.leased < this.#cap(h);
  }

  /** Ids of cached hosts that cannot take work now (bounded by the hosts in use). */
  unavailable(now: number, respectRobots: boolean): number[] {
    const out: number[] = [];
    for (const h of this.#cache.values()) {
      const robotsWait = respectRobots && h.robots !== null && 'pending' in h.robots;
      if (robotsWait || !this.canTake(h, now)) out.push(h.id);
    }
    return out;
  }

  /** The earliest time a blocked host opens again, if any is blocked. */
  nextUnblock(now: number): number | null {
    let next: number | null = null;
    for (const h of this.#cache.values()) {
      if (h.blockedUntil > now && (next === null || h.blockedUntil < next)) next = h.blockedUntil;
    }
    return next;
  }

  /** A 429/503 answer: halve the host's limit and hold the whole host back for Retry-After. */
  throttle(h: HostState, retryAfterMs: number | null, now: number): void {
    h.lim = Math.max(MIN_LIMIT, Math.min(h.lim, this.#maxLimit) / 2);
    if (retryAfterMs !== null && retryAfterMs > 0) {
      h.blockedUntil = Math.max(h.blockedUntil, now + retryAfterMs);
    }
    this.#persist(h);
  }

  /** A success: raise a lowered limit by about one slot per `lim` successes (additive). */
  recover(h: HostState): void {
    if (h.lim >= this.#maxLimit) return;
    h.lim = Math.min(this.#maxLimit, h.lim + 1 / h.lim);
    this.#persist(h);
  }

  /** Records robots rules (or a pending fetch) for a host. */
  setRobots(h: HostState, robots: RobotsState): void {
    h.robots = robots;
    const stored = robots === null || 'pending' in robots ? null : JSON.stringify(robots);
    this.#sql.run('UPDATE hosts SET robots = ? WHERE id = ?', stored, h.id);
  }

  /** Forgets robots fetches that a dead shard run was doing, so they are handed out again. */
  resetPendingRobots(shardIdx: number): void {
    for (const h of this.#cache.values()) {
      if (h.robots !== null && 'pending' in h.robots && h.robots.pending === shardIdx) {
        h.robots = null;
      }
    }
  }

  /** Forgets every lease count (after the leases themselves are released). */
  clearLeases(): void {
    for (const h of this.#cache.values()) h.leased = 0;
  }

  #persist(h: HostState): void {
    this.#sql.run(
      'UPDATE hosts SET lim = ?, blocked_until = ? WHERE id = ?',
      h.lim,
      h.blockedUntil,
      h.id,
    );
  }
}
