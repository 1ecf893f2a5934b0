import { DurableObject } from 'cloudflare:workers';
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
];

interface IndexedJob {
  id: string;
  createdAt: number;
}

/**
 * The list of jobs, newest first, for GET /v1/jobs, and which job each Idempotency-Key names.
 * One instance ("all"); it only records ids: each job's live status stays with its own
 * coordinator.
 */
export class JobIndex extends DurableObject<Env> {
  readonly #sql: Sql;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = new Sql(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => this.#sql.migrate(MIGRATIONS));
  }

  /** Records a job (idempotent: a repeated id keeps its first entry). */
  async add(id: string, createdAt: number, total: number): Promise<void> {
    this.#sql.run(
      'INSERT OR IGNORE INTO jobs (id, created_at, total) VALUES (?, ?, ?)',
      id,
      createdAt,
      total,
    );
  }

  /**
   * The job an owner's Idempotency-Key names: the one recorded for it, else `candidate`, which
   * is recorded. The mapping is stored, so it holds whatever token the caller used; a key whose
   * job was never created (a crash in between) names the same id on the retry, which creates it.
   */
  async claimKey(owner: string, keyHash: string, candidate: string): Promise<string> {
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

  /** A page of jobs, newest first, strictly after the (createdAt, id) position given. */
  async page(limit: number, after: IndexedJob | null): Promise<IndexedJob[]> {
    const rows = after
      ? this.#sql.all<{ id: string; created_at: number }>(
          `SELECT id, created_at FROM jobs
           WHERE created_at < ?1 OR (created_at = ?1 AND id < ?2)
           ORDER BY created_at DESC, id DESC LIMIT ?3`,
          after.createdAt,
          after.id,
          limit,
        )
      : this.#sql.all<{ id: string; created_at: number }>(
          'SELECT id, created_at FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?',
          limit,
        );
    return rows.map((r) => ({ id: r.id, createdAt: r.created_at }));
  }
}
