/**
 * Append-only, versioned migrations of a JobCoordinator's SQLite database. Never edit a
 * shipped entry: add a new one.
 */
export const COORDINATOR_MIGRATIONS: readonly string[] = [
  `CREATE TABLE job (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     job_id TEXT NOT NULL,
     spec TEXT NOT NULL,
     body_hash TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     finished_at INTEGER,
     deadline_at INTEGER,
     total INTEGER NOT NULL,
     duplicates INTEGER NOT NULL,
     callback_state TEXT
   );
   CREATE TABLE hosts (
     id INTEGER PRIMARY KEY,
     host TEXT NOT NULL UNIQUE,
     lim REAL,
     blocked_until INTEGER NOT NULL DEFAULT 0,
     robots TEXT
   );
   -- state: 0 queued, 1 leased to a shard, 2 waiting for a retry, 3 settled (has a result)
   CREATE TABLE urls (
     idx INTEGER PRIMARY KEY,
     url TEXT NOT NULL,
     norm TEXT NOT NULL UNIQUE,
     host_id INTEGER NOT NULL,
     state INTEGER NOT NULL DEFAULT 0,
     attempts INTEGER NOT NULL DEFAULT 0,
     due_at INTEGER,
     shard INTEGER
   );
   CREATE INDEX urls_by_state ON urls (state, idx);
   CREATE INDEX urls_due ON urls (due_at) WHERE state = 2;
   CREATE INDEX urls_leased ON urls (shard) WHERE state = 1;
   -- one row per settled URL; idx UNIQUE is what makes a result impossible to write twice
   CREATE TABLE results (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     idx INTEGER NOT NULL UNIQUE,
     ok INTEGER NOT NULL,
     kind TEXT,
     duration_ms INTEGER NOT NULL,
     bytes INTEGER NOT NULL,
     body TEXT NOT NULL
   );
   CREATE TABLE shards (
     idx INTEGER PRIMARY KEY,
     slots INTEGER NOT NULL,
     run_id TEXT
   );`,
  // v2: settling is one statement: a result row marks its URL row settled.
  `CREATE TRIGGER results_settle AFTER INSERT ON results BEGIN
     UPDATE urls SET state = 3, due_at = NULL WHERE idx = NEW.idx;
   END;`,
  // v3: attempts count what ran. `started` is 1 once the shard reported the current lease's
  // fetch started (and `attempts` counts it); failed and lost attempts are logged.
  `ALTER TABLE urls ADD COLUMN started INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE attempt_log (
     idx INTEGER NOT NULL,
     n INTEGER NOT NULL,
     at INTEGER NOT NULL,
     status INTEGER,
     kind TEXT NOT NULL,
     message TEXT NOT NULL,
     duration_ms INTEGER NOT NULL,
     PRIMARY KEY (idx, n)
   ) WITHOUT ROWID;`,
  // v4: a job being terminated holds its ending ({status, kind, message} as JSON) until its
  // last URL is settled, so an ending cut off by a restart is finished, not forgotten.
  `ALTER TABLE job ADD COLUMN ending TEXT;`,
  // v5: URLs out with a run are found through urls_by_state (state 1 holds at most the
  // shards' prefetch), so no second index is kept up to date on every hand-out and settle.
  `DROP INDEX IF EXISTS urls_leased;`,
  // v6: the job belongs to an owner (the admin or an API key's id). `index_state` is
  // 'pending' from the job's end until the job index has been told it ended.
  `ALTER TABLE job ADD COLUMN owner TEXT NOT NULL DEFAULT 'admin';
   ALTER TABLE job ADD COLUMN index_state TEXT;`,
  // v7: the jobs that redrive this one (POST /v1/jobs/:id/redrive), for its view.
  `CREATE TABLE redrives (job_id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);`,
  // v8: change detection (compareWith). `prior` holds, per URL of this job that the compared
  // job also had, that job's Result: ok, validators, content hash and the fields a 304 carries
  // forward (JSON). `job.compare` is the import's progress (JSON); `results.changed` is the
  // Result's `changed` (1, 0, NULL) for the `changed` filter and counts.
  `CREATE TABLE prior (
     idx INTEGER PRIMARY KEY,
     ok INTEGER NOT NULL,
     etag TEXT,
     last_modified TEXT,
     content_hash TEXT,
     carry TEXT
   );
   ALTER TABLE job ADD COLUMN compare TEXT;
   ALTER TABLE results ADD COLUMN changed INTEGER;`,
];
