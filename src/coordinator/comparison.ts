import type { JobChanges, JobSpec, Result } from '../jobs/types';
import { LIST, type Sql } from '../lib/sql';
import type { Settled } from './url-store';

/**
 * How far the import of the compared job's Results got (the `job.compare` column). The
 * compared job is read in pages in its URL order, each page stored with this in one
 * transaction, so an import cut off by a restart resumes after its last stored page.
 */
export interface CompareState {
  /** The compared job's last URL idx imported (-1 before the first page; idx start at 0). */
  after: number;
  done: boolean;
  /** URLs of the compared job this job does not have. */
  gone: number;
  /** URLs of this job the compared job had (rows of `prior`). */
  known: number;
  /**
   * Whether conditional requests are sent: only when both jobs extract the same things, since
   * a 304 carries the previous Result's extracted fields forward.
   */
  conditional: boolean;
}

/** One page of a terminal job's Results for a job compared with it. */
export interface PriorPage {
  /** JSON array of `[norm, ok, etag, lastModified, contentHash, carry]`, carry a JSON object. */
  rows: string;
  /** Rows on the page. */
  count: number;
  /** The last URL idx on the page. */
  last: number;
  more: boolean;
  /** The job's extraction settings (extractKey). */
  extract: string;
}

/** URLs per page of a compared job, and the bytes of a page at most (beyond its first row). */
const PRIOR_PAGE_ROWS = 1_000;
const PRIOR_PAGE_BYTES = 2 * 1024 * 1024;

/**
 * The page of this (terminal) job's Results after URL idx `after`, for a job compared with it:
 * built inside SQLite from the stored Results, so a page costs no JSON parsing here.
 */
export function readPriorPage(sql: Sql, spec: Pick<JobSpec, 'extract'>, after: number): PriorPage {
  const row = sql.one<{ rows: string; n: number; last: number | null }>(
    `SELECT json_group_array(json(row)) AS rows, count(*) AS n, max(idx) AS last FROM (
       SELECT idx, row, size, sum(size) OVER (ORDER BY idx) AS upto FROM (
         SELECT idx, row, length(CAST(row AS BLOB)) AS size FROM (
           SELECT u.idx AS idx, json_array(u.norm, r.ok, r.body->>'etag',
             r.body->>'lastModified', r.body->>'contentHash',
             json(CASE WHEN r.ok THEN json_object('title', r.body->'title',
               'links', r.body->'links', 'data', r.body->'data',
               'linkUrls', r.body->'linkUrls', 'meta', r.body->'meta') END)) AS row
           FROM urls u JOIN results r ON r.idx = u.idx
           WHERE u.idx > ?1 ORDER BY u.idx LIMIT ?2)))
     WHERE upto <= ?3 OR upto = size`,
    after,
    PRIOR_PAGE_ROWS,
    PRIOR_PAGE_BYTES,
  );
  const last = row?.last ?? after;
  const more = sql.one('SELECT 1 AS x FROM results WHERE idx > ? LIMIT 1', last) !== null;
  return { rows: row?.rows ?? '[]', count: row?.n ?? 0, last, more, extract: extractKey(spec) };
}

/** A compared job's Result of one of this job's URLs, as stored in `prior`. */
interface PriorRow extends Record<string, SqlStorageValue> {
  idx: number;
  ok: number;
  etag: string | null;
  last_modified: string | null;
  content_hash: string | null;
  carry: string | null;
}

/** The fields a 304 takes from the previous Result. */
type Carried = Pick<Result, 'title' | 'links' | 'data' | 'linkUrls' | 'meta'>;

/** A job's extraction settings in one comparable string: equal means a 304 may carry forward. */
export function extractKey(spec: Pick<JobSpec, 'extract'>): string {
  const { selectors, links, meta } = spec.extract;
  const names = Object.keys(selectors).sort();
  return JSON.stringify([names.map((n) => [n, selectors[n]]), links === true, meta === true]);
}

/** The state of an import that has not begun. */
export function newCompareState(): CompareState {
  return { after: -1, done: false, gone: 0, known: 0, conditional: true };
}

/**
 * A job's comparison with the job named by its `compareWith`: the import of that job's
 * Results into `prior`, the validators of handed-out URLs, and each new Result's `changed`.
 * Every SQL statement on `prior` and `job.compare` is here.
 */
export class Comparison {
  readonly #sql: Sql;
  readonly #extract: string;
  #state: CompareState;
  #changed = 0;
  #unchanged = 0;

  constructor(sql: Sql, state: CompareState, spec: Pick<JobSpec, 'extract'>) {
    this.#sql = sql;
    this.#state = state;
    this.#extract = extractKey(spec);
    for (const r of sql.all<{ changed: number; n: number }>(
      'SELECT changed, count(*) AS n FROM results WHERE changed IS NOT NULL GROUP BY changed',
    )) {
      if (r.changed === 1) this.#changed = r.n;
      else this.#unchanged = r.n;
    }
  }

  /** Whether every page of the compared job has been imported: URLs may be handed out. */
  get ready(): boolean {
    return this.#state.done;
  }

  /** Where the next page starts. */
  get after(): number {
    return this.#state.after;
  }

  /**
   * Stores one page of the compared job's Results (call inside a transaction): the rows for
   * this job's URLs go to `prior`, the others count as gone. Null: the compared job is gone
   * (purged since this job was created); what was imported stands and the import ends.
   */
  importPage(page: PriorPage | null): void {
    const s = { ...this.#state };
    if (page === null) {
      s.done = true;
    } else {
      if (page.extract !== this.#extract) s.conditional = false;
      const inserted = this.#sql.all(
        `INSERT OR REPLACE INTO prior (idx, ok, etag, last_modified, content_hash, carry)
         SELECT u.idx, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5
         FROM json_each(?1) j JOIN urls u ON u.norm = j.value->>0
         RETURNING idx`,
        page.rows,
      ).length;
      s.known += inserted;
      s.gone += page.count - inserted;
      s.after = page.last;
      s.done = !page.more;
    }
    this.#sql.run('UPDATE job SET compare = ? WHERE id = 1', JSON.stringify(s));
    this.#state = s;
  }

  /** The previous validators of the given URLs, for conditional requests. */
  validators(idxs: readonly number[]): Map<number, { etag?: string; lastModified?: string }> {
    const out = new Map<number, { etag?: string; lastModified?: string }>();
    if (!this.#state.conditional || idxs.length === 0) return out;
    const rows = this.#sql.inList<PriorRow>(
      `SELECT idx, etag, last_modified FROM prior WHERE ok = 1 AND idx IN (${LIST})
         AND (etag IS NOT NULL OR last_modified IS NOT NULL)`,
      [],
      idxs,
    );
    for (const r of rows) {
      const v: { etag?: string; lastModified?: string } = {};
      if (r.etag !== null) v.etag = r.etag;
      if (r.last_modified !== null) v.lastModified = r.last_modified;
      out.set(r.idx, v);
    }
    return out;
  }

  /**
   * Sets `changed` on Results about to be written, and gives a 304's Result the previous
   * Result's content fields and hash. Against a previous Result that failed, or none, changed
   * is null; so it is when either side has no content hash.
   */
  annotate(list: readonly Settled[]): void {
    const ok = list.filter((s) => s.result.ok).map((s) => s.idx);
    if (ok.length === 0) return;
    const prior = new Map<number, PriorRow>();
    for (const r of this.#sql.inList<PriorRow>(
      `SELECT * FROM prior WHERE idx IN (${LIST})`,
      [],
      ok,
    )) {
      prior.set(r.idx, r);
    }
    for (const { idx, result } of list) {
      const p = prior.get(idx);
      if (!result.ok || p === undefined || p.ok !== 1) continue;
      if (result.notModified) {
        const carried = JSON.parse(p.carry ?? '{}') as Carried;
        Object.assign(result, carried);
        result.contentHash = p.content_hash;
        result.etag ??= p.etag;
        result.lastModified ??= p.last_modified;
        result.changed = false;
      } else if (result.contentHash !== null && p.content_hash !== null) {
        result.changed = result.contentHash !== p.content_hash;
      }
    }
  }

  /** Counts a Result written. */
  count(result: Result): void {
    if (result.changed === true) this.#changed++;
    else if (result.changed === false) this.#unchanged++;
  }

  /** The job view's `changes`, for a job of `total` URLs. */
  changes(total: number): JobChanges {
    const s = this.#state;
    return {
      changed: this.#changed,
      unchanged: this.#unchanged,
      new: s.done ? total - s.known : 0,
      gone: s.gone,
    };
  }
}
