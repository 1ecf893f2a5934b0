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
/** Idle, unconstrained hosts beyond this many are dropped from memory (they reload on use). */
const MAX_CACHED_HOSTS = 10_000;

/**
 * Per-host politeness state of one job. Rows live in SQLite; hot entries are cached. `leased`
 * is never persisted: after a restart it is rebuilt from the leased URL rows. Hosts that
 * cannot take work right now are tracked in a set, so a lease never scans every host.
 */
export class HostTable {
  readonly #sql: Sql;
  readonly #cache = new Map<number, HostState>();
  readonly #constrained = new Set<HostState>();
  readonly #maxLimit: number;
  readonly #concurrency: number;
  readonly #respectRobots: boolean;
  /**
   * Whether any per-host rule may ever refuse a URL of this job: robots, a per-host limit
   * below the job's concurrency, or a host throttled once (its limit lowered or held back).
   * Sticky: once set, every lease looks at hosts one by one.
   */
  #mayRefuse: boolean;

  constructor(sql: Sql, perHostConcurrency: number, concurrency: number, respectRobots: boolean) {
    this.#sql = sql;
    this.#maxLimit = perHostConcurrency;
    this.#concurrency = concurrency;
    this.#respectRobots = respectRobots;
    this.#mayRefuse =
      respectRobots ||
      perHostConcurrency < concurrency ||
      sql.one('SELECT 1 AS x FROM hosts WHERE lim IS NOT NULL OR blocked_until > 0 LIMIT 1') !==
        null;
  }

  /**
   * True while no host can refuse a URL (no robots, no binding limit, no throttle so far):
   * URLs may then be handed out in queue order without looking at their hosts first.
   */
  get unconstrained(): boolean {
    return !this.#mayRefuse && this.#constrained.size === 0;
  }

  /** Rebuilds in-memory leased counts from the URL table (start-up and after lease expiry). */
  loadLeases(): void {
    for (const h of this.#cache.values()) h.leased = 0;
    const rows = this.#sql.all<{ host_id: number; n: number }>(
      'SELECT host_id, count(*) AS n FROM urls WHERE state = 1 GROUP BY host_id',
    );
    for (const r of rows) this.get(r.host_id).leased = r.n;
    for (const h of this.#cache.values()) this.#track(h, Date.now());
  }

  /** The host's state (loaded on first use). */
  get(id: number): HostState {
    const hit = this.#cache.get(id);
    if (hit) return hit;
    if (this.#cache.size >= MAX_CACHED_HOSTS) this.#shrink();
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
    this.#track(state, Date.now());
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

  /** Counts a URL handed out for this host. */
  lease(h: HostState): void {
    h.leased++;
    this.#track(h, Date.now());
  }

  /** Counts a URL of this host coming back (settled, retrying or requeued). */
  release(h: HostState): void {
    h.leased = Math.max(0, h.leased - 1);
    this.#track(h, Date.now());
  }

  /** Ids of hosts that cannot take work now (bounded by the hosts in use). */
  unavailable(now: number): number[] {
    const out: number[] = [];
    for (const h of [...this.#constrained]) {
      this.#track(h, now);
      if (this.#constrained.has(h)) out.push(h.id);
    }
    return out;
  }

  /** Hosts held back by a Retry-After right now, with the time they open again. */
  holds(now: number): Array<{ host: string; until: number }> {
    const out: Array<{ host: string; until: number }> = [];
    for (const h of this.#constrained)
      if (h.blockedUntil > now) out.push({ host: h.host, until: h.blockedUntil });
    return out;
  }

  /** A 429/503 answer: halve the host's limit and hold the whole host back for Retry-After. */
  throttle(h: HostState, retryAfterMs: number | null, now: number): void {
    this.#mayRefuse = true;
    h.lim = Math.max(MIN_LIMIT, Math.min(h.lim, this.#maxLimit) / 2);
    if (retryAfterMs !== null && retryAfterMs > 0) {
      h.blockedUntil = Math.max(h.blockedUntil, now + retryAfterMs);
    }
    this.#persist(h);
    this.#track(h, now);
  }

  /** A success: raise a lowered limit by about one slot per `lim` successes (additive). */
  recover(h: HostState): void {
    if (h.lim >= this.#maxLimit) return;
    h.lim = Math.min(this.#maxLimit, h.lim + 1 / h.lim);
    this.#persist(h);
    this.#track(h, Date.now());
  }

  /** Records robots rules (or a pending fetch) for a host. */
  setRobots(h: HostState, robots: RobotsState): void {
    h.robots = robots;
    const stored = robots === null || 'pending' in robots ? null : JSON.stringify(robots);
    this.#sql.run('UPDATE hosts SET robots = ? WHERE id = ?', stored, h.id);
    this.#track(h, Date.now());
  }

  /** Forgets robots fetches that a dead shard run was doing, so they are handed out again. */
  resetPendingRobots(shardIdx: number): void {
    for (const h of [...this.#constrained]) {
      if (h.robots !== null && 'pending' in h.robots && h.robots.pending === shardIdx) {
        h.robots = null;
        this.#track(h, Date.now());
      }
    }
  }

  /** Forgets every lease count (after the leases themselves are released). */
  clearLeases(): void {
    for (const h of this.#cache.values()) {
      h.leased = 0;
      this.#track(h, Date.now());
    }
  }

  #track(h: HostState, now: number): void {
    const robotsWait = this.#respectRobots && h.robots !== null && 'pending' in h.robots;
    if (robotsWait || !this.canTake(h, now)) this.#constrained.add(h);
    else this.#constrained.delete(h);
  }

  #shrink(): void {
    for (const [id, h] of this.#cache) {
      if (h.leased === 0 && !this.#constrained.has(h)) this.#cache.delete(id);
    }
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
