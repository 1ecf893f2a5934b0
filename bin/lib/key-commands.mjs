// `scrape-fanout keys create|list|delete`: API keys, which only the admin token may manage
// (docs/api.md, "API keys, ownership and limits").
import { parseArgs } from 'node:util';
import { clientFrom, err, expectPositionals, GLOBAL, GLOBAL_HELP, out } from './command.mjs';
import { keyLine, keyTable } from './format.mjs';
import { intOption, UsageError } from './job-options.mjs';

/** Pages of keys followed at most: 100 keys a page. */
const MAX_PAGES = 10_000;

export const KEYS_HELP = `Usage: scrape-fanout keys create NAME [--max-active-jobs N] [--max-concurrency N] [--json]
       scrape-fanout keys list
       scrape-fanout keys delete ID

API keys, managed with the admin token (API_TOKEN). Each key has its own token, reaches
only its own jobs and schedules, and is held to its limits.

  create NAME   creates a key and prints it with its token. The token is shown this once
                only: the service keeps just its hash.
    --max-active-jobs N   jobs of the key not yet ended, at most (server default 10)
    --max-concurrency N   the largest concurrency its jobs may ask (server default 1000)
    --json                print the key as JSON (token included)
  list          every key as a table: id, name, limits, creation time (never tokens)
  delete ID     deletes the key: its token is refused from then on; its jobs run on

${GLOBAL_HELP}`;

/** @param {string[]} args */
async function create(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...GLOBAL,
      'max-active-jobs': { type: 'string' },
      'max-concurrency': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.help) return help();
  const [name] = expectPositionals(positionals, 1, 'a NAME (quote one with spaces)');
  /** @type {import('./api.mjs').KeyBody} */
  const body = { name };
  const maxActiveJobs = intOption('max-active-jobs', values['max-active-jobs']);
  const maxConcurrency = intOption('max-concurrency', values['max-concurrency']);
  if (maxActiveJobs !== undefined) body.maxActiveJobs = maxActiveJobs;
  if (maxConcurrency !== undefined) body.maxConcurrency = maxConcurrency;
  const key = await clientFrom(values).createKey(body);
  if (values.json) out(JSON.stringify(key, null, 2));
  else {
    out(`created key ${keyLine(key)}`);
    out(`token ${key.token}`);
  }
  err('note: the token is not shown again; store it now');
  return 0;
}

/** @param {string[]} args */
async function list(args) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: GLOBAL });
  if (values.help) return help();
  expectPositionals(positionals, 0, 'no arguments');
  const client = clientFrom(values);
  /** @type {import('./api.mjs').KeyView[]} */
  const all = [];
  /** @type {string | null} */
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { items, nextCursor } = await client.keys(cursor);
    all.push(...items);
    if (nextCursor === null || items.length === 0) break;
    cursor = nextCursor;
  }
  for (const line of keyTable(all)) out(line);
  return 0;
}

/** @param {string[]} args */
async function remove(args) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: GLOBAL });
  if (values.help) return help();
  const [id] = expectPositionals(positionals, 1, 'a key ID');
  const gone = await clientFrom(values).deleteKey(id);
  out(`deleted key ${gone.id}`);
  return 0;
}

function help() {
  process.stdout.write(KEYS_HELP);
  return 0;
}

/** @type {Record<string, (args: string[]) => Promise<number>>} */
const SUBCOMMANDS = { create, list, delete: remove };

/**
 * `keys SUBCOMMAND ...`: without one (or with --help), the help.
 * @param {string[]} args
 */
export async function keys(args) {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h') return help();
  const command = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!command)
    throw new UsageError(`unknown keys command "${name}": expected create, list or delete`);
  return command(rest);
}
