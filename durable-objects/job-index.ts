import { DurableObject } from 'cloudflare:workers';
import { TERMINAL_STATUSES } from '../src/jobs/types';
import { ADMIN_OWNER } from '../src/keys/types';
import { Sql } from '../src/lib/sql';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     total INTEGER NOT NULL
   );
   CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);`,
  `CREATE TABLE idempotency_keys (
     owner TEXT NOT NULL,
     key_hash TEXT NOT NULL,
     job_id TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (owner, key_hash)
   ) WITHOUT ROWID;`,
  // v3: jobs belong to an owner (the admin or an API key); `ended_at` is set when the job's
  // coordinator reports it terminal, so a key's active jobs are counted here.
  `ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '${ADMIN_OWNER}';
   ALTER TABLE jobs ADD COLUMN ended_at INTEGER;
   ALTER TABLE jobs ADD COLUMN checked_at INTEGER;
   CREATE INDEX jobs_owner_newest ON jobs (owner, created_at DESC, id DESC);
   CREATE INDEX jobs_active ON jobs (owner, created_at) WHERE ended_at IS NULL;
   CREATE INDEX idempotency_by_job ON idempotency_keys (job_id);`,
];

interface IndexedJob {
  id: string;
  createdAt: number;
}

/** What a key asking for a new job is told. */
export type Reservation =
  | { ok: true; id: string; inserted: boolean }
  | { ok: false; active: number; retryAfterS: number };

/** Suggested wait for a key at its active-job limit: jobs end on their own time. */
const RETRY_AFTER_S = 30;
/**
 * An active row older than this that a key's limit rests on is asked about once more (at most
 * once per this interval): a lost end report or a creation cut off by a crash must not hold a
 * slot for ever.
 */
const STALE_MS = 60_000;
/** Rows asked about per refused reservation, at most. */
const MAX_CHECKS = 10;

/**
 * The list of jobs, newest first, for GET /v1/jobs, with each job's owner and whether it is
 * still active; and which job each Idempotency-Key names. One instance ("all"); each job's
 * live status stays with its own coordinator.
 */
export class JobIndex extends DurableObject<Env> {
  readonly #sql: Sql;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = new Sql(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => this.#sql.migrate(MIGRATIONS));
  }

  /**
   * Names the job an owner's new request creates and, when `maxActive` is given, holds it a
   * place among the owner's active jobs. `keyHash` (an Idempotency-Key's SHA-256) names the
   * job recorded for it, else `candidate`, which is recorded. Refused when the owner already
   * has `maxActive` active jobs; a job already listed (a repeated key) is never refused.
   */
  async reserve(
    owner: string,
    keyHash: string | null,
    candidate: string,
    maxActive: number | null,
  ): Promise<Reservation> {
    const id = keyHash === null ? candidate : this.#claimKey(owner, keyHash, candidate);
    if (maxActive === null) return { ok: true, id, inserted: false };
    if (this.#sql.one('SELECT 1 AS x FROM jobs WHERE id = ?', id)) {
      return { ok: true, id, inserted: false };
    }
    if (this.#activeCount(owner) >= maxActive) await this.#recheck(owner);
    // Counted again after the awaits above: the check and the insert are one step.
    const active = this.#activeCount(owner);
    if (active >= maxActive) return { ok: false, active, retryAfterS: RETRY_AFTER_S };
    this.#sql.run(
      'INSERT OR IGNORE INTO jobs (id, created_at, total, owner) VALUES (?, ?, 0, ?)',
      id,
      Date.now(),
      owner,
    );
    return { ok: true, id, inserted: true };
  }

  /** Gives back a place `reserve` inserted for a job that was then not created. */
  async release(id: string): Promise<void> {
    this.#sql.run('DELETE FROM jobs WHERE id = ? AND total = 0', id);
  }

  /** Records a created job (idempotent: a repeated id keeps its owner). */
  async add(id: string, createdAt: number, total: number, owner: string): Promise<void> {
    this.#sql.run(
      `INSERT INTO jobs (id, created_at, total, owner) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, total = excluded.total`,
      id,
      createdAt,
      total,
      owner,
    );
  }

  /** A job's coordinator reports it terminal: it no longer counts among active jobs. */
  async ended(id: string, at: number): Promise<void> {
    this.#sql.run('UPDATE jobs SET ended_at = ? WHERE id = ? AND ended_at IS NULL', at, id);
  }

  /** Forgets a job and any Idempotency-Key naming it (purge, retention). */
  async remove(id: string): Promise<void> {
    this.#sql.run('DELETE FROM jobs WHERE id = ?', id);
    this.#sql.run('DELETE FROM idempotency_keys WHERE job_id = ?', id);
  }

  /**
   * A page of jobs, newest first, strictly after the (createdAt, id) position given: all of
   * them (owner null, the admin) or one owner's.
   */
  async page(
    limit: number,
    after: IndexedJob | null,
    owner: string | null = null,
  ): Promise<IndexedJob[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (owner !== null) {
      where.push('owner = ?');
      params.push(owner);
    }
    if (after) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(after.createdAt, after.createdAt, after.id);
    }
    const rows = this.#sql.all<{ id: string; created_at: number }>(
      `SELECT id, created_at FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      ...params,
      limit,
    );
    return rows.map((r) => ({ id: r.id, createdAt: r.created_at }));
  }

  #claimKey(owner: string, keyHash: string, candidate: string): string {
    this.#sql.run(
      `INSERT OR IGNORE INTO idempotency_keys (owner, key_hash, job_id, created_at)
       VALUES (?, ?, ?, ?)`,
      owner,
      keyHash,
      candidate,
      Date.now(),
    );
    const row = this.#sql.one<{ job_id: string }>(
      'SELECT job_id FROM idempotency_keys WHERE owner = ? AND key_hash = ?',
      owner,
      keyHash,
    );
    return row?.job_id ?? candidate;
  }

  #activeCount(owner: string): number {
    return (
      this.#sql.one<{ n: number }>(
        'SELECT count(*) AS n FROM jobs WHERE owner = ? AND ended_at IS NULL',
        owner,
      )?.n ?? 0
    );
  }

  /**
   * Asks the coordinators of an owner's oldest active rows whether they still run: a job that
   * ended (its report lost) is marked ended; one never created (a crash between reserving and
   * creating) is dropped.
   */
  async #recheck(owner: string): Promise<void> {
    const now = Date.now();
    const stale = this.#sql.all<{ id: string }>(
      `SELECT id FROM jobs WHERE owner = ? AND ended_at IS NULL AND created_at < ?
         AND (checked_at IS NULL OR checked_at < ?)
       ORDER BY created_at LIMIT ?`,
      owner,
      now - STALE_MS,
      now - STALE_MS,
      MAX_CHECKS,
    );
    const views = await Promise.allSettled(
      stale.map((r) => this.env.JOB_COORDINATOR.getByName(r.id).view()),
    );
    stale.forEach((r, i) => {
      const answer = views[i];
      // A coordinator that could not answer is asked again next time.
      if (answer?.status !== 'fulfilled') return;
      const view = answer.value;
      if (!view) this.#sql.run('DELETE FROM jobs WHERE id = ?', r.id);
      else if (TERMINAL_STATUSES.includes(view.status)) {
        this.#sql.run('UPDATE jobs SET ended_at = ? WHERE id = ?', now, r.id);
      } else this.#sql.run('UPDATE jobs SET checked_at = ? WHERE id = ?', now, r.id);
    });
  }
}
