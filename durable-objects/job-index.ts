import { DurableObject } from 'cloudflare:workers';
import { Sql } from '../src/lib/sql';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     total INTEGER NOT NULL
   );
   CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);`,
];

interface IndexedJob {
  id: string;
  createdAt: number;
}

/**
 * The list of jobs, newest first, for GET /v1/jobs. One instance ("all"); it only records ids:
 * each job's live status stays with its own coordinator.
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
