import type { RobotsRules } from '../lib/robots';
import type { Sql } from '../lib/sql';
import {
  heldUntil,
  hostCanTake,
  hostDelay,
  hostOpensAt,
  nextStart,
  recoveredLimit,
  resumedStartBy,
  startedBy,
  throttledLimit,
} from './host-limits';

/** Robots state of a host: unknown, being fetched by a shard, or known rules. */
type RobotsState = null | { pending: number } | RobotsRules;

export interface HostState {
  id: number;
  host: string;
  /** Adaptive limit of URLs out at once (see host-limits.ts). */
  limit: number;
  /** URLs of this host out with shards now; never persisted (rebuilt from the URL rows). */
  inUse: number;
  blockedUntil: number;
  robots: RobotsState;
  /** The least ms between two request starts to this host (perHostDelayMs, Crawl-delay). */
  delayMs: number;
  /** The latest time the last request start to this host may happen; in memory only. */
  lastStartBy: number;
}

/** A job's pacing of request starts per host (see host-limits.ts). */
export interface Pacing {
  /** The job's perHostDelayMs. */
  delayMs: number;
  /** A URL is never handed out longer than this before its start (a quarter of the lease). */
  horizonMs: number;
  /**
   * When the table was loaded for a job that had handed out URLs before (a restart), else
   * null: a start scheduled before the restart lies at most one lookahead after it (and may
   * happen a slack later).
   */
  resumedAt: number | null;
}

const NO_PACING: Pacing = { delayMs: 0, horizonMs: Number.POSITIVE_INFINITY, resumedAt: null };

/** Idle, unconstrained hosts beyond this many are dropped from memory (they reload on use). */
const MAX_CACHED_HOSTS = 10_000;
/** Host rows per insert statement (one JSON parameter each). */
const HOSTS_PER_INSERT = 5_000;

/** Stores a new job's hosts (`host[:port]` -> id). */
export function insertHosts(sql: Sql, hostIds: ReadonlyMap<string, number>): void {
  let rows: string[] = [];
  const flush = () => {
    if (rows.length === 0) return;
    sql.run(
      'INSERT INTO hosts (id, host) SELECT value->>0, value->>1 FROM json_each(?)',
      `[${rows.join(',')}]`,
    );
    rows = [];
  };
  for (const [host, id] of hostIds) {
    rows.push(JSON.stringify([id, host]));
    if (rows.length >= HOSTS_PER_INSERT) flush();
  }
  flush();
}

/**
 * Per-host politeness state of one job. Rows live in SQLite; hot entries are cached. Hosts
 * that cannot take work right now are tracked in a set, so a hand-out never scans every host.
 */
export class HostTable {
  readonly #sql: Sql;
  readonly #cache = new Map<number, HostState>();
  readonly #constrained = new Set<HostState>();
  readonly #maxLimit: number;
  readonly #concurrency: number;
  readonly #respectRobots: boolean;
  readonly #pacing: Pacing;
  /**
   * Whether any per-host rule may ever refuse a URL of this job: robots, a per-host limit
   * below the job's concurrency, pacing, or a host throttled once (its limit lowered or held
   * back). Sticky: once set, every hand-out looks at hosts one by one.
   */
  #mayRefuse: boolean;

  constructor(
    sql: Sql,
    perHostConcurrency: number,
    concurrency: number,
    respectRobots: boolean,
    pacing: Pacing = NO_PACING,
  ) {
    this.#sql = sql;
    this.#maxLimit = perHostConcurrency;
    this.#concurrency = concurrency;
    this.#respectRobots = respectRobots;
    this.#pacing = pacing;
    this.#mayRefuse =
      respectRobots ||
      perHostConcurrency < concurrency ||
      pacing.delayMs > 0 ||
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

  /** Sets every host's in-use count from the URLs out per host (start-up, taking back). */
  setInUse(outPerHost: ReadonlyArray<{ host_id: number; n: number }>): void {
    for (const h of this.#cache.values()) h.inUse = 0;
    for (const r of outPerHost) this.get(r.host_id).inUse = r.n;
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
    const robots = row?.robots ? (JSON.parse(row.robots) as RobotsRules) : null;
    const delayMs = this.#delayOf(robots);
    const { resumedAt, horizonMs } = this.#pacing;
    const state: HostState = {
      id,
      host: row?.host ?? '',
      limit: row?.lim ?? this.#maxLimit,
      inUse: 0,
      blockedUntil: row?.blocked_until ?? 0,
      robots,
      delayMs,
      lastStartBy: resumedAt === null ? 0 : resumedStartBy(resumedAt, delayMs, horizonMs),
    };
    this.#cache.set(id, state);
    this.#track(state, Date.now());
    return state;
  }

  /** Whether one more URL of this host may be handed out now. */
  canTake(h: HostState, now: number): boolean {
    return hostCanTake(h, this.#concurrency, now, this.#pacing.horizonMs);
  }

  /**
   * Schedules the start of a request to this host handed out now: one delay after the last
   * one may have started, or now. Returns that start (epoch ms). A host without a delay is
   * tracked too: a Crawl-delay learnt later counts from its robots.txt fetch.
   */
  scheduleStart(h: HostState, now: number): number {
    const at = h.delayMs > 0 ? nextStart(h, now) : now;
    h.lastStartBy = Math.max(h.lastStartBy, startedBy(at, now));
    this.#track(h, now);
    return at;
  }

  /** The earliest time after `now` when a host held back by time alone may open, if any. */
  nextOpening(now: number): number | null {
    let next = Number.POSITIVE_INFINITY;
    for (const h of this.#constrained) {
      const at = hostOpensAt(h, this.#pacing.horizonMs);
      if (at > now) next = Math.min(next, at);
    }
    return next === Number.POSITIVE_INFINITY ? null : next;
  }

  /** Counts a URL of this host handed out. */
  claim(h: HostState): void {
    h.inUse++;
    this.#track(h, Date.now());
  }

  /** Counts a URL of this host coming back (settled, retrying or requeued). */
  release(h: HostState): void {
    h.inUse = Math.max(0, h.inUse - 1);
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

  /** A 429/503 answer: lower the host's limit and hold it back for its Retry-After. */
  throttle(h: HostState, retryAfterMs: number | null, now: number): void {
    this.#mayRefuse = true;
    h.limit = throttledLimit(h.limit, this.#maxLimit);
    h.blockedUntil = heldUntil(h.blockedUntil, retryAfterMs, now);
    this.#persist(h);
    this.#track(h, now);
  }

  /** A success: raise a lowered limit a little. */
  recover(h: HostState): void {
    const limit = recoveredLimit(h.limit, this.#maxLimit);
    if (limit === h.limit) return;
    h.limit = limit;
    this.#persist(h);
    this.#track(h, Date.now());
  }

  /** Records robots rules (or a pending fetch) for a host. */
  setRobots(h: HostState, robots: RobotsState): void {
    h.robots = robots;
    h.delayMs = this.#delayOf(robots);
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

  /** Forgets every in-use count (after every hand-out was taken back). */
  clearInUse(): void {
    for (const h of this.#cache.values()) {
      h.inUse = 0;
      this.#track(h, Date.now());
    }
  }

  #track(h: HostState, now: number): void {
    const robotsWait = this.#respectRobots && h.robots !== null && 'pending' in h.robots;
    if (robotsWait || !this.canTake(h, now)) this.#constrained.add(h);
    else this.#constrained.delete(h);
  }

  #shrink(): void {
    const now = Date.now();
    for (const [id, h] of this.#cache) {
      // A host whose next start is still ahead keeps its schedule (it lives in memory only).
      const idle = h.inUse === 0 && !this.#constrained.has(h) && nextStart(h, 0) <= now;
      if (idle) this.#cache.delete(id);
    }
  }

  /** A host's delay between request starts, with its robots.txt Crawl-delay if we obey it. */
  #delayOf(robots: RobotsState): number {
    const rules = this.#respectRobots && robots !== null && !('pending' in robots) ? robots : null;
    return hostDelay(this.#pacing.delayMs, rules?.crawlDelayMs);
  }

  #persist(h: HostState): void {
    this.#sql.run(
      'UPDATE hosts SET lim = ?, blocked_until = ? WHERE id = ?',
      h.limit,
      h.blockedUntil,
      h.id,
    );
  }
}
