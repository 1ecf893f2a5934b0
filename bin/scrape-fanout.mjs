#!/usr/bin/env node
// scrape-fanout: a command-line client for the scrape-fanout HTTP API (docs/api.md),
// and `run`, which runs a job without a server (lib/local).
// Exit codes: 0 done (job completed), 1 the job ended failed/cancelled/timed_out, 2 an error
// (usage, API error, API unreachable), 130 interrupted.
import module from 'node:module';
import { parseArgs } from 'node:util';
import { ApiError, NetworkError } from './lib/api.mjs';
import { clientFrom, err, expectPositionals, GLOBAL, out } from './lib/command.mjs';
import { shortLine, summary } from './lib/format.mjs';
import { HELP } from './lib/help.mjs';
import { copyBody, downloadTo, StreamBroken } from './lib/io.mjs';
import { JOB_OPTIONS, jobBody, UsageError } from './lib/job-options.mjs';
import { keys } from './lib/key-commands.mjs';
import { watchJob } from './lib/progress.mjs';
import { run } from './lib/run.mjs';
import { gatherUrls, pointAtUrl } from './lib/urls.mjs';

/** @typedef {import('./lib/api.mjs').Client} Client */
/** @typedef {import('./lib/api.mjs').JobView} JobView */

/** Whole-file downloads start over after a broken stream, at most this many times in all. */
const DOWNLOAD_ATTEMPTS = 3;

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
