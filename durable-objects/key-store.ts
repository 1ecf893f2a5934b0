import { DurableObject } from 'cloudflare:workers';
import type { KeySpec } from '../src/keys/schema';
import type { KeyView, NewKey } from '../src/keys/types';
import { toHex } from '../src/lib/hex';
import { sha256Hex } from '../src/lib/ids';
import { Sql } from '../src/lib/sql';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE,
     max_active_jobs INTEGER NOT NULL,
     max_concurrency INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX keys_newest ON keys (created_at DESC, id DESC);`,
];

interface KeyRow extends Record<string, SqlStorageValue> {
  id: string;
  name: string;
  max_active_jobs: number;
  max_concurrency: number;
  created_at: number;
}

const COLUMNS = 'id, name, max_active_jobs, max_concurrency, created_at';

function keyView(r: KeyRow): KeyView {
  return {
    id: r.id,
    name: r.name,
    maxActiveJobs: r.max_active_jobs,
    maxConcurrency: r.max_concurrency,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/**
 * The API keys (one instance, "all"). A token is stored only as its SHA-256: the store can
 * tell which key a token is, never give a token back.
 */
export class KeyStore extends DurableObject<Env> {
  readonly #sql: Sql;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = new Sql(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => this.#sql.migrate(MIGRATIONS));
  }

  /** Creates a key with a new random token, shown only in this answer. */
  async create(spec: KeySpec): Promise<NewKey> {
    const now = Date.now();
    const id = `key_${now.toString(36)}${toHex(crypto.getRandomValues(new Uint8Array(6)))}`;
    const token = `sfk_${toHex(crypto.getRandomValues(new Uint8Array(24)))}`;
    this.#sql.run(
      `INSERT INTO keys (id, name, token_hash, max_active_jobs, max_concurrency, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      id,
      spec.name,
      await sha256Hex(token),
      spec.maxActiveJobs,
      spec.maxConcurrency,
      now,
    );
    const row = this.#sql.one<KeyRow>(`SELECT ${COLUMNS} FROM keys WHERE id = ?`, id);
    if (!row) throw new Error(`key ${id} was not stored`);
    return { ...keyView(row), token };
  }

  /** The key a token's SHA-256 belongs to, or null. */
  async byTokenHash(tokenHash: string): Promise<KeyView | null> {
    const row = this.#sql.one<KeyRow>(
      `SELECT ${COLUMNS} FROM keys WHERE token_hash = ?`,
      tokenHash,
    );
    return row ? keyView(row) : null;
  }

  /** A page of keys, newest first, strictly after the (createdAt, id) position given. */
  async page(limit: number, after: { createdAt: number; id: string } | null): Promise<KeyView[]> {
    const rows = after
      ? this.#sql.all<KeyRow>(
          `SELECT ${COLUMNS} FROM keys
           WHERE created_at < ?1 OR (created_at = ?1 AND id < ?2)
           ORDER BY created_at DESC, id DESC LIMIT ?3`,
          after.createdAt,
          after.id,
          limit,
        )
      : this.#sql.all<KeyRow>(
          `SELECT ${COLUMNS} FROM keys ORDER BY created_at DESC, id DESC LIMIT ?`,
          limit,
        );
    return rows.map(keyView);
  }

  /** Deletes a key; false when there was none. Its token is refused from then on. */
  async remove(id: string): Promise<boolean> {
    return this.#sql.all('DELETE FROM keys WHERE id = ? RETURNING id', id).length > 0;
  }
}
