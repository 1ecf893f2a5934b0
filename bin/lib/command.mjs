// What every command shares: the connection options and their help, the client they make,
// positional checks, and output lines.
import { Client } from './api.mjs';
import { UsageError } from './job-options.mjs';

const DEFAULT_API = 'http://127.0.0.1:8787';

/** parseArgs option specs every command takes. */
export const GLOBAL = /** @type {const} */ ({
  api: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
});

export const GLOBAL_HELP = `Connection (every command):
  --api URL        API base URL (env SCRAPE_FANOUT_URL, default ${DEFAULT_API})
  --token TOKEN    bearer token: the admin's API_TOKEN or an API key's
                   (env SCRAPE_FANOUT_TOKEN, default dev-token)
  -h, --help       this help

Exit codes: 0 ok / job completed, 1 job failed, cancelled or timed out,
            2 usage, API or connection error, 130 interrupted.
`;

/**
 * @param {{ api?: string, token?: string }} values
 */
export function clientFrom(values) {
  return new Client({
    baseUrl: values.api ?? process.env.SCRAPE_FANOUT_URL ?? DEFAULT_API,
    token: values.token ?? process.env.SCRAPE_FANOUT_TOKEN ?? 'dev-token',
  });
}

/**
 * @param {string[]} positionals
 * @param {number} n
 * @param {string} usage
 */
export function expectPositionals(positionals, n, usage) {
  if (positionals.length !== n) throw new UsageError(`expected ${usage}`);
  return positionals;
}

/** @param {string} line */
export const out = (line) => process.stdout.write(`${line}\n`);
/** @param {string} line */
export const err = (line) => process.stderr.write(`${line}\n`);
