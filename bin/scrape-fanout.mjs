#!/usr/bin/env node
// scrape-fanout: a command-line client for the scrape-fanout HTTP API (docs/api.md),
// and `run`, which runs a job without a server (lib/local).
// Exit codes: 0 done (job completed), 1 the job ended failed/cancelled/timed_out, 2 an error
// (usage, API error, API unreachable), 130 interrupted.
import module from 'node:module';
import { parseArgs } from 'node:util';
import { ApiError, NetworkError } from './lib/api.mjs';
import { clientFrom, err, expectPositionals, GLOBAL, GLOBAL_HELP, out } from './lib/command.mjs';
import { shortLine, summary } from './lib/format.mjs';
import { copyBody, downloadTo, StreamBroken } from './lib/io.mjs';
import { JOB_HELP, JOB_OPTIONS, jobBody, UsageError } from './lib/job-options.mjs';
import { keys } from './lib/key-commands.mjs';
import { watchJob } from './lib/progress.mjs';
import { run } from './lib/run.mjs';
import { gatherUrls, pointAtUrl } from './lib/urls.mjs';

/** @typedef {import('./lib/api.mjs').Client} Client */
/** @typedef {import('./lib/api.mjs').JobView} JobView */

/** Whole-file downloads start over after a broken stream, at most this many times in all. */
const DOWNLOAD_ATTEMPTS = 3;

const HELP = {
  main: `Usage: scrape-fanout <command> [options]

Commands:
  submit [FILE|-]    submit a job (URLs one a line from FILE, stdin, or --url)
  run [FILE|-]       run a job without a server (an embedded runtime), writing its Results
  status ID          show a job (JSON, or one line with --short)
  results ID         stream a job's results as NDJSON
  attempts ID        the job's retried and lost attempts as NDJSON
  body ID HASH       a body the job stored (--store-bodies), to stdout or --out FILE
  watch ID           follow a running job with a progress bar
  cancel ID          cancel a job
  purge ID           cancel a job if it runs and delete all of its data now
  redrive ID         a new job of the job's failed URLs (--kind K to take only those)
  deadline ID MS     move a job's deadline to MS milliseconds after its creation
  keys create NAME   create an API key (admin token only); also: keys list, keys delete ID

Run \`scrape-fanout <command> --help\` for a command's options.

${GLOBAL_HELP}`,
  submit: `Usage: scrape-fanout submit [FILE|-] [--url URL]... [options]

Submits a job. URLs are read one a line from FILE (or stdin with -); blank lines and lines
starting with # are skipped. --url adds URLs (repeatable). Prints the job id.

${JOB_HELP}
Output:
  --wait                 follow the job with a progress bar (stderr), then print a summary;
                         exit 0 when it completed, 1 when it failed, was cancelled or timed out
  --out FILE             write all results to FILE as NDJSON (implies --wait)
  -q, --quiet            print only the job id (no progress bar, no summary)

${GLOBAL_HELP}`,
  status: `Usage: scrape-fanout status ID [--short]

Prints the job as JSON, or one human-readable line with --short.

${GLOBAL_HELP}`,
  results: `Usage: scrape-fanout results ID [--out FILE] [--follow] [--format ndjson|csv]
                                  [--ok true|false] [--kind KIND]

Streams the job's results as NDJSON (one Result a line) or CSV to stdout, or to FILE.
  --out FILE          write to FILE (via FILE.part, renamed when complete)
  --follow            keep streaming until the job ends
  --format csv        the server's RFC 4180 CSV (a header row, one row per Result)
  --ok true|false     only ok, or only failed, Results
  --kind KIND         only failed Results of this error kind (timeout, http_status, ...)

${GLOBAL_HELP}`,
  attempts: `Usage: scrape-fanout attempts ID

Prints every attempt that did not give its URL the Result (failures that were retried,
fetches lost with a crashed shard) as NDJSON, one attempt a line, in URL order. The job
must have ended for the list to be complete; on a running job it is what exists so far.

${GLOBAL_HELP}`,
  body: `Usage: scrape-fanout body ID HASH [--out FILE]

Writes a page body the job stored (submitted with --store-bodies) as it was kept: the decoded
bytes of the page. HASH is a Result's contentHash, with or without its "sha256:" prefix.
  --out FILE          write to FILE (via FILE.part, renamed when complete) instead of stdout

${GLOBAL_HELP}`,
  watch: `Usage: scrape-fanout watch ID [--quiet]

Follows a job with a progress bar on stderr until it ends, then prints a summary.
Exit 0 when it completed, 1 when it failed, was cancelled or timed out.

${GLOBAL_HELP}`,
  cancel: `Usage: scrape-fanout cancel ID [--json]

Cancels a job (idempotent; in-flight fetches are aborted). Prints one line, or the job JSON.

${GLOBAL_HELP}`,
  purge: `Usage: scrape-fanout purge ID

Cancels the job if it runs and deletes all of its data now (URLs, Results, attempts, its
place in the job list): afterwards every request for it answers 404. Prints \`purged ID\`.

${GLOBAL_HELP}`,
  redrive: `Usage: scrape-fanout redrive ID [--kind KIND]... [--json]

Submits a new job with the finished job's spec and only its URLs whose Result is not ok;
with --kind (repeatable), only those of these error kinds (timeout, network, http_status, ...).
Prints the new job's id and how many URLs it took.

${GLOBAL_HELP}`,
  deadline: `Usage: scrape-fanout deadline ID MS [--json]

Moves the job's deadline to MS milliseconds after its creation.

${GLOBAL_HELP}`,
};

/** @param {JobView} view */
const exitFor = (view) => (view.status === 'completed' ? 0 : 1);

/**
 * Downloads all results of a job to `file` and says so (unless quiet).
 * @param {Client} client
 * @param {string} id
 * @param {string} file
 * @param {{ follow?: boolean, quiet?: boolean, expected?: number, format?: 'ndjson' | 'csv',
 *   ok?: boolean, kind?: string }} [options]
 */
async function saveResults(client, id, file, options = {}) {
  let counts;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await client.results(id, options);
      if (!res.body) throw new Error('the results response has no body');
      counts = await downloadTo(res.body, file);
      break;
    } catch (e) {
      // The partial file is gone already: start over, a few times, when the link was the problem.
      if (
        !(e instanceof StreamBroken || e instanceof NetworkError) ||
        attempt >= DOWNLOAD_ATTEMPTS
      ) {
        throw e;
      }
      err(`results: ${e.message}; retrying (${attempt}/${DOWNLOAD_ATTEMPTS - 1})`);
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
  const { lines, bytes } = counts;
  const what = options.format === 'csv' ? 'CSV lines' : 'results';
  if (!options.quiet) err(`wrote ${lines} ${what} (${bytes} bytes) to ${file}`);
  if (options.expected !== undefined && lines !== options.expected) {
    err(`warning: expected ${options.expected} results, got ${lines}`);
  }
}

/** @param {string[]} args */
async function submit(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...GLOBAL,
      ...JOB_OPTIONS,
      'idempotency-key': { type: 'string' },
      wait: { type: 'boolean' },
      out: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (values.help) return help('submit');
  if (positionals.length > 1) throw new UsageError('expected at most one FILE (or -)');
  const { urls, where } = await gatherUrls(values.url, positionals[0]);
  const body = jobBody(values, urls);
  const client = clientFrom(values);
  let job;
  try {
    job = await client.submit(body, { idempotencyKey: values['idempotency-key'] });
  } catch (e) {
    if (e instanceof ApiError) pointAtUrl(e, where);
    throw e;
  }
  const quiet = values.quiet === true;
  if (quiet) out(job.id);
  else {
    const dups = job.duplicates
      ? `, ${job.duplicates} duplicate${job.duplicates === 1 ? '' : 's'}`
      : '';
    out(`job ${job.id} ${job.status}: ${job.accepted} URLs accepted${dups}`);
  }
  if (!values.wait && values.out === undefined) return 0;
  const view = await watchJob(client, job.id, { quiet });
  if (!quiet) out(summary(view));
  if (values.out !== undefined) {
    await saveResults(client, job.id, values.out, { quiet, expected: view.counts.total });
  }
  return exitFor(view);
}

/** @param {string[]} args */
async function status(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...GLOBAL, short: { type: 'boolean' } },
  });
  if (values.help) return help('status');
  const [id] = expectPositionals(positionals, 1, 'a job ID');
  const view = await clientFrom(values).job(id);
  out(values.short ? shortLine(view) : JSON.stringify(view, null, 2));
  return 0;
}

/** @param {string[]} args */
async function results(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...GLOBAL,
      out: { type: 'string' },
      follow: { type: 'boolean' },
      format: { type: 'string' },
      ok: { type: 'string' },
      kind: { type: 'string' },
    },
  });
  if (values.help) return help('results');
  const [id] = expectPositionals(positionals, 1, 'a job ID');
  const client = clientFrom(values);
  const stream = resultsOptions(values);
  if (values.out !== undefined) {
    await saveResults(client, id, values.out, stream);
    return 0;
  }
  const res = await client.results(id, stream);
  if (res.body) await copyBody(res.body, process.stdout);
  return 0;
}

/**
 * The stream `results` asks for: format, filters and follow, the flags checked.
 * @param {{ follow?: boolean, format?: string, ok?: string, kind?: string }} values
 */
function resultsOptions(values) {
  const { format, ok, kind } = values;
  if (format !== undefined && format !== 'ndjson' && format !== 'csv') {
    throw new UsageError(`--format: expected ndjson or csv, got "${format}"`);
  }
  if (ok !== undefined && ok !== 'true' && ok !== 'false') {
    throw new UsageError(`--ok: expected true or false, got "${ok}"`);
  }
  return {
    follow: values.follow,
    format: /** @type {'ndjson' | 'csv' | undefined} */ (format),
    ok: ok === undefined ? undefined : ok === 'true',
    kind,
  };
}

/** @param {string[]} args */
async function attempts(args) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: GLOBAL });
  if (values.help) return help('attempts');
  const [id] = expectPositionals(positionals, 1, 'a job ID');
  const client = clientFrom(values);
  /** @type {string | null} */
  let cursor = null;
  // A running job's log keeps a cursor: stop once a page comes back empty.
  for (let page = 0; page < 100_000; page++) {
    const { items, nextCursor } = await client.attempts(id, cursor);
    for (const item of items) out(JSON.stringify(item));
    if (nextCursor === null || items.length === 0) break;
    cursor = nextCursor;
  }
  return 0;
}

/** @param {string[]} args */
async function storedBody(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...GLOBAL, out: { type: 'string' } },
  });
  if (values.help) return help('body');
  const [id, raw] = expectPositionals(positionals, 2, 'a job ID and a body HASH');
  const hash = (raw.startsWith('sha256:') ? raw.slice('sha256:'.length) : raw).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new UsageError(`HASH: expected 64 hex digits (a Result's contentHash), got "${raw}"`);
  }
  const res = await clientFrom(values).body(id, hash);
  if (!res.body) throw new Error('the body response has no body');
  if (values.out !== undefined) await downloadTo(res.body, values.out);
  else await copyBody(res.body, process.stdout);
  return 0;
}

/** @param {string[]} args */
async function watch(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...GLOBAL, quiet: { type: 'boolean', short: 'q' } },
  });
  if (values.help) return help('watch');
  const [id] = expectPositionals(positionals, 1, 'a job ID');
  const view = await watchJob(clientFrom(values), id, { quiet: values.quiet });
  if (!values.quiet) out(summary(view));
  return exitFor(view);
}

/** @param {string[]} args */
async function cancel(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...GLOBAL, json: { type: 'boolean' } },
  });
  if (values.help) return help('cancel');
  const [id] = expectPositionals(positionals, 1, 'a job ID');
  const view = await clientFrom(values).cancel(id);
  out(values.json ? JSON.stringify(view, null, 2) : shortLine(view));
  return 0;
}

/** @param {string[]} args */
async function purge(args) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: GLOBAL });
  if (values.help) return help('purge');
  const [id] = expectPositionals(positionals, 1, 'a job ID');
  const purged = await clientFrom(values).purge(id);
  out(`purged ${purged.id}`);
  return 0;
}

/** @param {string[]} args */
async function redrive(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...GLOBAL, kind: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  });
  if (values.help) return help('redrive');
  const [id] = expectPositionals(positionals, 1, 'a job ID');
  const job = await clientFrom(values).redrive(id, values.kind ?? []);
  out(values.json ? JSON.stringify(job, null, 2) : `${job.id} (${job.accepted} URLs of ${id})`);
  return 0;
}

/** @param {string[]} args */
async function deadline(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...GLOBAL, json: { type: 'boolean' } },
  });
  if (values.help) return help('deadline');
  const [id, raw] = expectPositionals(positionals, 2, 'a job ID and a deadline in ms');
  const ms = Number(raw.replaceAll('_', ''));
  if (!/^\d+$/.test(raw.replaceAll('_', '')) || ms < 1) {
    throw new UsageError(`MS: expected a positive integer, got "${raw}"`);
  }
  const view = await clientFrom(values).setDeadline(id, ms);
  out(values.json ? JSON.stringify(view, null, 2) : shortLine(view));
  return 0;
}

/** @param {keyof HELP} name */
function help(name) {
  process.stdout.write(HELP[name]);
  return 0;
}

/** @type {Record<string, (args: string[]) => Promise<number>>} */
const COMMANDS = {
  submit,
  run,
  status,
  results,
  attempts,
  body: storedBody,
  watch,
  cancel,
  purge,
  redrive,
  deadline,
  keys,
};

/** @param {string[]} argv */
async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    return help('main');
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command "${name}"`);
  return command(rest);
}

/**
 * Prints an error the way the user can act on it; returns the exit code.
 * @param {unknown} e
 */
function report(e) {
  const code = /** @type {{ code?: unknown }} */ (e)?.code;
  if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    err(`error: ${/** @type {Error} */ (e).message}`);
    err(`see: scrape-fanout ${process.argv[2] ?? ''} --help`.replace('  ', ' '));
    return 2;
  }
  if (e instanceof ApiError) {
    err(`error: ${e.code}: ${e.message}`);
    if (Array.isArray(e.details) && e.details.length > 1) {
      for (const d of e.details.slice(0, 10)) err(`  ${d?.path ?? ''}: ${d?.message ?? ''}`);
    }
    if (e.status === 401) err('hint: check --token or SCRAPE_FANOUT_TOKEN');
    if (e.status === 403) err("hint: this takes the admin token (API_TOKEN), not an API key's");
    if (e.status === 429 && e.retryAfter !== null) err(`hint: retry in ${e.retryAfter} s`);
    return 2;
  }
  if (e instanceof NetworkError) {
    err(`error: ${e.message}`);
    err(
      'hint: is the API running? Start it locally with `npm start`, or point --api (or SCRAPE_FANOUT_URL) at it.',
    );
    return 2;
  }
  if (e instanceof StreamBroken) {
    err(`error: results: ${e.message}; run the command again to fetch them all`);
    return 2;
  }
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    err(`error: ${/** @type {Error} */ (e).message}`);
    return 2;
  }
  err(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 2;
}

// V8 keeps the compiled code of loaded modules between runs: `run` loads large ones.
module.enableCompileCache?.();

process.stdout.on('error', (e) => {
  if (/** @type {NodeJS.ErrnoException} */ (e).code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = report(e);
  },
);
