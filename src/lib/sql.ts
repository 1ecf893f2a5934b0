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

/** SQLite's limit of bound parameters in one statement (Durable Object storage). */
const MAX_BOUND_PARAMS = 100;

/** Marks where `inList` puts a statement's list of `?` placeholders. */
export const LIST = '{list}';

/**
 * Id lists are padded to one of these lengths with NULL (which `IN` never matches): a few
 * statement texts, each prepared once, serve every list length.
 */
const LIST_WIDTHS = [8, 32, MAX_BOUND_PARAMS] as const;

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
   * Runs `query` (with `LIST` where an `IN (...)` list goes) over `ids`, in as many statements
   * as the parameter limit asks, and returns every row. `fixed` parameters come first in each.
   * One bound parameter per id lets SQLite answer by primary key, where
   * `IN (SELECT value FROM json_each(?))` scans the whole table.
   */
  inList<T extends Record<string, SqlStorageValue>>(
    query: string,
    fixed: readonly Param[],
    ids: readonly Param[],
  ): T[] {
    const room = MAX_BOUND_PARAMS - fixed.length;
    const out: T[] = [];
    for (let start = 0; start < ids.length; start += room) {
      const part = ids.slice(start, start + room);
      const width = Math.min(room, LIST_WIDTHS.find((w) => w >= part.length) ?? room);
      while (part.length < width) part.push(null);
      const text = query.replace(LIST, placeholders(width));
      for (const row of this.all<T>(text, ...fixed, ...part)) out.push(row);
    }
    return out;
  }

  /**
   * Inserts rows of equal width with `head` (`INSERT ... VALUES`) and an optional `tail`
   * (`RETURNING ...`), as many rows per statement as the parameter limit allows.
   */
  insertRows<T extends Record<string, SqlStorageValue>>(
    head: string,
    rows: readonly (readonly Param[])[],
    tail = '',
  ): T[] {
    const width = rows[0]?.length ?? 0;
    if (width === 0) return [];
    const perStatement = Math.max(1, Math.floor(MAX_BOUND_PARAMS / width));
    const tuple = `(${placeholders(width)})`;
    const out: T[] = [];
    for (let start = 0; start < rows.length; start += perStatement) {
      const part = rows.slice(start, start + perStatement);
      const text = `${head} ${part.map(() => tuple).join(', ')} ${tail}`;
      for (const row of this.all<T>(text, ...part.flat())) out.push(row);
    }
    return out;
  }

  /**
   * Applies append-only migrations once each, tracked in a table (PRAGMA user_version is not
   * available to Durable Objects). Call inside blockConcurrencyWhile, with no I/O in between.
   */
  /** Whether a table of this name exists. */
  hasTable(name: string): boolean {
    return (
      this.one("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", name) !== null
    );
  }

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

function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
