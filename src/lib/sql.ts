/** A SQL failure that carries the statement that failed, so logs say what broke. */
export class SqlError extends Error {
  constructor(
    readonly query: string,
    cause: unknown,
  ) {
    super(
      `${cause instanceof Error ? cause.message : String(cause)} [in: ${query.slice(0, 200)}]`,
      {
        cause,
      },
    );
    this.name = 'SqlError';
  }
}

type Param = string | number | null | ArrayBuffer;

/** The one door to Durable Object SQLite: parameterised statements, failures carry the query. */
export class Sql {
  readonly #storage: SqlStorage;

  constructor(storage: SqlStorage) {
    this.#storage = storage;
  }

  /** Runs a statement and returns every row (callers bound the row count with LIMIT). */
  all<T extends Record<string, SqlStorageValue>>(query: string, ...params: Param[]): T[] {
    try {
      return this.#storage.exec<T>(query, ...params).toArray();
    } catch (err) {
      throw new SqlError(query, err);
    }
  }

  /** Runs a statement and returns its first row, or null. */
  one<T extends Record<string, SqlStorageValue>>(query: string, ...params: Param[]): T | null {
    return this.all<T>(query, ...params)[0] ?? null;
  }

  /**
   * Runs a statement for its effect. Returns the storage's rows-written figure, which counts
   * index entries too: to count affected rows, use RETURNING with `all`.
   */
  run(query: string, ...params: Param[]): number {
    try {
      const cursor = this.#storage.exec(query, ...params);
      for (const _ of cursor) {
        // Drain: a cursor only executes fully once it is read to the end.
      }
      return cursor.rowsWritten;
    } catch (err) {
      throw new SqlError(query, err);
    }
  }

  /**
   * Applies append-only migrations once each, tracked in a table (PRAGMA user_version is not
   * available to Durable Objects). Call inside blockConcurrencyWhile, with no I/O in between.
   */
  migrate(migrations: readonly string[]): void {
    this.run(
      'CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)',
    );
    const row = this.one<{ v: number | null }>('SELECT max(version) AS v FROM _migrations');
    const applied = row?.v ?? 0;
    for (let v = applied + 1; v <= migrations.length; v++) {
      const ddl = migrations[v - 1] ?? '';
      this.run(ddl);
      this.run('INSERT INTO _migrations (version, applied_at) VALUES (?, ?)', v, Date.now());
    }
  }
}
