import type { Result } from '../jobs/types';
import { LIST, type Sql } from '../lib/sql';

/** Where a URL is in its life; the `state` column of `urls`. */
export const URL_STATE = {
  /** Waiting to be handed out. */
  queued: 0,
  /** Handed out to a shard run that has not reported it yet. */
  out: 1,
  /** Failed an attempt; waits for `due_at`, then goes back to queued. */
  retrying: 2,
  /** Has its one Result (the results_settle trigger sets this). */
  settled: 3,
} as const;

const Q = URL_STATE.queued;
const OUT = URL_STATE.out;
const RETRY = URL_STATE.retrying;
const DONE = URL_STATE.settled;

/** A queued URL as a hand-out reads it. */
export interface QueuedRow extends Record<string, SqlStorageValue> {
  idx: number;
  url: string;
  norm: string;
  host_id: number;
  attempts: number;
}

/** A URL handed out to a shard run, as loaded after a restart. */
export interface OutRow extends Record<string, SqlStorageValue> {
  idx: number;
  url: string;
  attempts: number;
  started: number;
  shard: number;
  host_id: number;
}

/** A URL's Result, ready to be written. */
export interface Settled {
  idx: number;
  result: Result;
}

/** One failed or lost attempt, as the attempt log keeps it. */
export interface AttemptRow extends Record<string, SqlStorageValue> {
  idx: number;
  n: number;
  url: string;
  at: number;
  status: number | null;
  kind: string;
  message: string;
  duration_ms: number;
}

/** Of an ending's next chunk: how many URLs are in one state, and the last idx among them. */
export interface ChunkPlanRow extends Record<string, SqlStorageValue> {
  state: number;
  n: number;
  last: number;
}

/** Rows of JSON per insert statement stay well under the 2 MB value limit. */
const INSERT_CHUNK_CHARS = 1_000_000;

const LOST_MESSAGE =
  'the shard running this fetch stopped before reporting it; the URL was run again';

/** Which Results a page holds: all, or only ok (or failed) ones, one error kind, (un)changed. */
export interface ResultFilter {
  ok?: boolean;
  kind?: string;
  changed?: boolean;
}

/** The filter's test, on ?4 (ok: 1, 0 or NULL for any), ?5 (kind), ?6 (changed: 1, 0, NULL). */
const FILTERED =
  '(?4 IS NULL OR ok = ?4) AND (?5 IS NULL OR kind = ?5) AND (?6 IS NULL OR changed = ?6)';

const flag = (b: boolean | undefined): number | null => (b === undefined ? null : b ? 1 : 0);

function filterParams(f: ResultFilter): [number | null, string | null, number | null] {
  return [flag(f.ok), f.kind ?? null, flag(f.changed)];
}

/**
 * Every SQL statement on a job's `urls`, `results` and `attempt_log` tables. It keeps no state
 * of its own: callers keep the counts that follow from what it returns.
 */
export class UrlStore {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /**
   * Inserts a job's URLs in submission order; a normalised form seen before is dropped (the
   * first spelling keeps its idx). Returns how many unique URLs were stored.
   */
  insert(urls: readonly string[], norms: readonly string[], hostIdOf: (norm: string) => number) {
    const rows: string[] = [];
    let chars = 0;
    const flush = () => {
      if (rows.length === 0) return;
      this.#sql.run(
        `INSERT OR IGNORE INTO urls (idx, url, norm, host_id)
         SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each(?)`,
        `[${rows.join(',')}]`,
      );
      rows.length = 0;
      chars = 0;
    };
    for (let i = 0; i < urls.length; i++) {
      const norm = norms[i] ?? '';
      const row = JSON.stringify([i, urls[i], norm, hostIdOf(norm)]);
      rows.push(row);
      chars += row.length;
      if (chars >= INSERT_CHUNK_CHARS) flush();
    }
    flush();
    return this.#sql.one<{ n: number }>('SELECT count(*) AS n FROM urls')?.n ?? 0;
  }

  /** URLs per state. */
  countByState(): Array<{ state: number; n: number }> {
    return this.#sql.all('SELECT state, count(*) AS n FROM urls GROUP BY state');
  }

  /** Results per (ok, kind). */
  countResults(): Array<{ ok: number; kind: string | null; n: number }> {
    return this.#sql.all('SELECT ok, kind, count(*) AS n FROM results GROUP BY ok, kind');
  }

  /** Duration and bytes of every Result that fetched, for the job's stats after a restart. */
  fetchSamples(): Array<{ d: number; b: number }> {
    return this.#sql.all('SELECT duration_ms AS d, bytes AS b FROM results WHERE duration_ms > 0');
  }

  /** The URLs handed out and not reported (at most the job's shards' prefetch). */
  outRows(): OutRow[] {
    return this.#sql.all<OutRow>(
      `SELECT idx, url, attempts, started, shard, host_id FROM urls WHERE state = ${OUT}`,
    );
  }

  /** URLs handed out per host. */
  outPerHost(): Array<{ host_id: number; n: number }> {
    return this.#sql.all(
      `SELECT host_id, count(*) AS n FROM urls WHERE state = ${OUT} GROUP BY host_id`,
    );
  }

  /** Hands the next `n` queued URLs in queue order to a shard, in one atomic statement. */
  takeInOrder(shard: number, n: number): QueuedRow[] {
    return this.#sql.all<QueuedRow>(
      `UPDATE urls SET state = ${OUT}, shard = ?1, started = 0
       WHERE idx IN (SELECT idx FROM urls WHERE state = ${Q} ORDER BY idx LIMIT ?2)
       RETURNING idx, url, norm, host_id, attempts`,
      shard,
      n,
    );
  }

  /** Up to `limit` queued URLs in queue order whose host is not in `excluded` (ids). */
  queuedExcept(excluded: readonly number[], limit: number): QueuedRow[] {
    return this.#sql.all<QueuedRow>(
      `SELECT idx, url, norm, host_id, attempts FROM urls
       WHERE state = ${Q} AND host_id NOT IN (SELECT value FROM json_each(?))
       ORDER BY idx LIMIT ?`,
      JSON.stringify(excluded),
      limit,
    );
  }

  /** Marks the given queued URLs handed out to a shard. */
  markOut(shard: number, ids: readonly number[]): void {
    this.#sql.inList(
      `UPDATE urls SET state = ${OUT}, shard = ?, started = 0 WHERE idx IN (${LIST})`,
      [shard],
      ids,
    );
  }

  /** Counts one more attempt for each URL whose fetch a shard reported started. */
  markStarted(ids: readonly number[]): void {
    this.#sql.inList(
      `UPDATE urls SET attempts = attempts + 1, started = 1 WHERE idx IN (${LIST})`,
      [],
      ids,
    );
  }

  /** Puts a handed-out URL back in the queue with its attempts so far. */
  requeue(idx: number, attempts: number): void {
    this.#sql.run(
      `UPDATE urls SET state = ${Q}, attempts = ?, started = 0 WHERE idx = ?`,
      attempts,
      idx,
    );
  }

  /** Makes a URL wait for its next attempt until `dueAt`. */
  retryAt(idx: number, dueAt: number, attempts: number): void {
    this.#sql.run(
      `UPDATE urls SET state = ${RETRY}, due_at = ?, attempts = ?, started = 0 WHERE idx = ?`,
      dueAt,
      attempts,
      idx,
    );
  }

  /** Logs a failed attempt that is retried (once per attempt number). */
  logAttempt(
    idx: number,
    n: number,
    at: number,
    failure: { status: number | null; kind: string; message: string; durationMs: number },
  ): void {
    this.#sql.run(
      `INSERT OR IGNORE INTO attempt_log (idx, n, at, status, kind, message, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      idx,
      n,
      at,
      failure.status,
      failure.kind,
      failure.message,
      failure.durationMs,
    );
  }

  /**
   * Writes Results, at most one per URL: the UNIQUE idx refuses a second, and the
   * results_settle trigger marks the URL settled in the same statement. Returns the idx of
   * every Result actually written.
   */
  writeResults(list: readonly Settled[]): Set<number> {
    const rows = list.map(({ idx, result }) => [
      idx,
      result.ok ? 1 : 0,
      result.error?.kind ?? null,
      result.durationMs,
      result.bytes,
      flag(result.changed ?? undefined),
      JSON.stringify(result),
    ]);
    const written = this.#sql.insertRows<{ idx: number }>(
      'INSERT OR IGNORE INTO results (idx, ok, kind, duration_ms, bytes, changed, body) VALUES',
      rows,
      'RETURNING idx',
    );
    return new Set(written.map((w) => w.idx));
  }

  /** Moves retrying URLs whose time has come back to the queue; returns how many. */
  promoteDue(now: number): number {
    return this.#sql.all(
      `UPDATE urls SET state = ${Q}, due_at = NULL WHERE state = ${RETRY} AND due_at <= ?
       RETURNING idx`,
      now,
    ).length;
  }

  /** When the earliest retry is due, if any URL waits for one. */
  nextDue(): number | null {
    return (
      this.#sql.one<{ d: number | null }>(
        `SELECT min(due_at) AS d FROM urls WHERE state = ${RETRY}`,
      )?.d ?? null
    );
  }

  /**
   * Takes back every URL handed out to a shard run that is gone: the fetches it had started
   * are logged as lost, and all go back to the queue. Returns their idx.
   */
  takeBackFrom(shard: number, now: number): number[] {
    this.#sql.run(
      `INSERT OR IGNORE INTO attempt_log (idx, n, at, status, kind, message, duration_ms)
       SELECT idx, attempts, ?, NULL, 'lost', ?, 0 FROM urls
       WHERE state = ${OUT} AND shard = ? AND started = 1`,
      now,
      LOST_MESSAGE,
      shard,
    );
    return this.#sql
      .all<{ idx: number }>(
        `UPDATE urls SET state = ${Q}, started = 0 WHERE state = ${OUT} AND shard = ?
         RETURNING idx`,
        shard,
      )
      .map((r) => r.idx);
  }

  /**
   * Of the first `rows` unsettled URLs after idx `after`: how many are in each state, and the
   * last idx. Rows are read in idx order by primary key from the cursor on, so a chunk never
   * rescans what earlier chunks settled.
   */
  planChunk(after: number, rows: number): ChunkPlanRow[] {
    return this.#sql.all<ChunkPlanRow>(
      `SELECT state, count(*) AS n, max(idx) AS last FROM (
         SELECT idx, state FROM urls WHERE idx > ?1 AND state != ${DONE} ORDER BY idx LIMIT ?2)
       GROUP BY state`,
      after,
      rows,
    );
  }

  /**
   * Settles every unsettled URL with idx in (after, last] with the same error, in submission
   * order. The body is the shape of resultWithoutFetch built inside SQLite, so a chunk of
   * thousands of URLs costs no JavaScript.
   */
  settleRange(kind: string, message: string, after: number, last: number): void {
    this.#sql.run(
      `INSERT OR IGNORE INTO results (idx, ok, kind, duration_ms, bytes, body)
       SELECT idx, 0, ?1, 0, 0, json_object(
         'url', url, 'finalUrl', NULL, 'ok', json('false'), 'status', NULL,
         'contentType', NULL, 'title', NULL, 'links', 0, 'bytes', 0, 'attempts', attempts,
         'durationMs', 0, 'fetchedAt', NULL, 'data', NULL, 'linkUrls', NULL, 'meta', NULL,
         'rendered', json('false'), 'renderMs', NULL, 'etag', NULL, 'lastModified', NULL,
         'contentHash', NULL, 'notModified', json('false'), 'changed', NULL, 'error', json_object('kind', ?1, 'message', ?2))
       FROM urls WHERE idx > ?3 AND idx <= ?4 AND state != ${DONE} ORDER BY idx`,
      kind,
      message,
      after,
      last,
    );
  }

  /**
   * Result bodies in settlement order after sequence number `afterSeq`: up to `limit` of them,
   * and no more than `maxBytes` of UTF-8 in all, except that the first is always given (one
   * Result is bounded by its own field caps).
   */
  resultsAfter(
    afterSeq: number,
    limit: number,
    maxBytes: number,
    filter: ResultFilter = {},
  ): Array<{ seq: number; body: string }> {
    return this.#sql.all(
      `SELECT seq, body FROM (
         SELECT seq, body, size, sum(size) OVER (ORDER BY seq) AS upto
         FROM (
           SELECT seq, body, length(CAST(body AS BLOB)) AS size FROM results
           WHERE seq > ?1 AND ${FILTERED} ORDER BY seq LIMIT ?2
         )
       ) WHERE upto <= ?3 OR upto = size ORDER BY seq`,
      afterSeq,
      limit,
      maxBytes,
      ...filterParams(filter),
    );
  }

  /**
   * The URLs whose Result is not ok (of `kinds` only, when given: a short list), in submission
   * order. A job's URLs passed the 16 MiB body limit of one request, so they fit in memory.
   */
  unsuccessful(kinds: readonly string[] | null): Array<{ url: string; norm: string }> {
    const only = kinds ? `AND r.kind IN (${kinds.map(() => '?').join(', ')})` : '';
    return this.#sql.all(
      `SELECT u.url, u.norm FROM results r JOIN urls u ON u.idx = r.idx
       WHERE r.ok = 0 ${only} ORDER BY u.idx`,
      ...(kinds ?? []),
    );
  }

  /** Whether a Result (one `filter` lets through) settled after sequence number `seq`. */
  hasResultAfter(seq: number, filter: ResultFilter = {}): boolean {
    const row = this.#sql.one(
      `SELECT 1 AS x FROM results WHERE seq > ?1 AND ${FILTERED} LIMIT 1`,
      seq,
      null,
      null,
      ...filterParams(filter),
    );
    return row !== null;
  }

  /** Up to `limit` attempt log entries after (idx, n), in URL then attempt order. */
  attemptsAfter(afterIdx: number, afterN: number, limit: number): AttemptRow[] {
    return this.#sql.all<AttemptRow>(
      `SELECT a.idx, a.n, u.url, a.at, a.status, a.kind, a.message, a.duration_ms
       FROM attempt_log a JOIN urls u ON u.idx = a.idx
       WHERE (a.idx, a.n) > (?, ?) ORDER BY a.idx, a.n LIMIT ?`,
      afterIdx,
      afterN,
      limit,
    );
  }
}
