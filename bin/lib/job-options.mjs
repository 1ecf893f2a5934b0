// Command-line options of `submit` -> the body of POST /v1/jobs (docs/api.md, "Fields and parameters").
// Only the shape is checked here; ranges are the server's to judge (it names the field).

export class UsageError extends Error {}

/** parseArgs option specs of `submit` that map to the job body. */
export const JOB_OPTIONS = /** @type {const} */ ({
  url: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  'per-host': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'deadline-ms': { type: 'string' },
  'max-attempts': { type: 'string' },
  'base-delay-ms': { type: 'string' },
  'max-delay-ms': { type: 'string' },
  'per-host-delay-ms': { type: 'string' },
  mode: { type: 'string' },
  'max-bytes': { type: 'string' },
  robots: { type: 'boolean' },
  select: { type: 'string', multiple: true },
  callback: { type: 'string' },
  'max-failures': { type: 'string' },
  header: { type: 'string', multiple: true },
  'user-agent': { type: 'string' },
  links: { type: 'boolean' },
  meta: { type: 'boolean' },
  'store-bodies': { type: 'boolean' },
  'compare-with': { type: 'string' },
  notify: { type: 'string' },
  render: { type: 'boolean' },
  'render-auto': { type: 'boolean' },
  'render-wait-until': { type: 'string' },
  'render-wait-for': { type: 'string' },
  'render-all-resources': { type: 'boolean' },
  'render-concurrency': { type: 'string' },
});

/** The help of the job options (`submit` and `run`). */
export const JOB_HELP = `Job options (left out: the server's defaults):
  --concurrency N        in-flight fetches for the whole job
  --per-host N           in-flight fetches per host
  --timeout-ms N         per attempt, connect + whole body
  --deadline-ms N        whole-job deadline, from creation
  --max-attempts N       attempts per URL (retries with backoff)
  --base-delay-ms N      the retries' first backoff (doubling up to --max-delay-ms)
  --max-delay-ms N       the longest backoff between two attempts
  --per-host-delay-ms N  least time between two request starts to one host
  --mode settle|failFast settle: every URL gets a result; failFast: first failure cancels all
  --max-bytes N          largest response body
  --robots               respect robots.txt
  --select NAME=CSS      extract the text of the first match as data.NAME (repeatable)
  --callback URL         POSTed the final job status
  --max-failures N|N%    failed URLs tolerated (a count or a share); one more fails the job
  --header 'Name: value' a request header sent with every page request (repeatable)
  --user-agent UA        the User-Agent of the job's requests
  --links                add linkUrls (the page's link URLs) to each Result
  --meta                 add meta (description, canonical, og:title, lang) to each Result
  --store-bodies         keep each ok HTML body; read one with \`body ID HASH\`
  --compare-with ID      compare with an ended job: conditional requests, \`changed\` per Result
  --notify always|changes  changes: send the callback only when something changed
  --render               render every page in a browser (its scripts run)
  --render-auto          fetch, then render the pages that look built by their scripts
  --render-wait-until E  load (default), domcontentloaded or networkidle0
  --render-wait-for CSS  wait until the rendered page shows a match
  --render-all-resources load images, media and fonts too (blocked by default)
  --render-concurrency N browser tabs the job may have open at once
  --idempotency-key K    same key + same body returns the same job
`;

/**
 * @typedef {{
 *   concurrency?: string, 'per-host'?: string, 'timeout-ms'?: string, 'deadline-ms'?: string,
 *   'max-attempts'?: string, 'base-delay-ms'?: string, 'max-delay-ms'?: string,
 *   'per-host-delay-ms'?: string, mode?: string, 'max-bytes'?: string, robots?: boolean,
 *   select?: string[], callback?: string, 'max-failures'?: string, header?: string[],
 *   'user-agent'?: string, links?: boolean, meta?: boolean, 'store-bodies'?: boolean,
 *   'compare-with'?: string, notify?: string, render?: boolean, 'render-auto'?: boolean,
 *   'render-wait-until'?: string, 'render-wait-for'?: string,
 *   'render-all-resources'?: boolean, 'render-concurrency'?: string,
 * }} JobFlags
 */

/**
 * @typedef {{
 *   urls: string[], concurrency?: number, perHostConcurrency?: number, timeoutMs?: number,
 *   deadlineMs?: number, perHostDelayMs?: number, mode?: 'settle' | 'failFast',
 *   retry?: { maxAttempts?: number, baseDelayMs?: number, maxDelayMs?: number },
 *   maxBytes?: number, respectRobots?: boolean,
 *   extract?: { selectors?: Record<string, string>, links?: boolean, meta?: boolean },
 *   callbackUrl?: string, maxFailures?: number | string, headers?: Record<string, string>,
 *   userAgent?: string, store?: { bodies: boolean }, compareWith?: string,
 *   notify?: 'always' | 'changes', render?: boolean | 'auto' | RenderObject,
 *   renderConcurrency?: number,
 * }} JobBody
 * @typedef {'load' | 'domcontentloaded' | 'networkidle0'} WaitUntil
 * @typedef {{ mode: boolean | 'auto', waitUntil?: WaitUntil, waitForSelector?: string,
 *   blockResources?: boolean }} RenderObject
 */

/**
 * A non-negative integer option (`10000`, or `10_000` for readability).
 * @param {string} name the flag, for messages
 * @param {string | undefined} raw
 * @returns {number | undefined}
 */
export function intOption(name, raw) {
  if (raw === undefined) return undefined;
  const text = raw.trim().replaceAll('_', '');
  if (!/^\d{1,15}$/.test(text))
    throw new UsageError(`--${name}: expected an integer, got "${raw}"`);
  return Number(text);
}

/**
 * `--select name=css` (repeatable) -> `{ name: css }`.
 * @param {string[] | undefined} specs
 * @returns {Record<string, string> | undefined}
 */
export function parseSelectors(specs) {
  if (!specs || specs.length === 0) return undefined;
  /** @type {Record<string, string>} */
  const selectors = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq === -1 ? '' : spec.slice(0, eq).trim();
    const css = eq === -1 ? '' : spec.slice(eq + 1).trim();
    if (!name || !css) throw new UsageError(`--select: expected name=css, got "${spec}"`);
    if (Object.hasOwn(selectors, name)) throw new UsageError(`--select: "${name}" given twice`);
    selectors[name] = css;
  }
  return selectors;
}

/**
 * `--header 'Name: value'` (repeatable) -> `{ Name: value }`.
 * @param {string[] | undefined} specs
 * @returns {Record<string, string> | undefined}
 */
export function parseHeaders(specs) {
  if (!specs || specs.length === 0) return undefined;
  /** @type {Record<string, string>} */
  const headers = {};
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const name = colon === -1 ? '' : spec.slice(0, colon).trim();
    if (!name) throw new UsageError(`--header: expected 'Name: value', got "${spec}"`);
    headers[name] = spec.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * `--max-failures 5` or `--max-failures 10%`: a count, or a share kept as the API's "N%".
 * @param {string | undefined} raw
 * @returns {number | string | undefined}
 */
export function maxFailuresOption(raw) {
  if (raw === undefined || !raw.trim().endsWith('%')) return intOption('max-failures', raw);
  return raw.trim();
}

/**
 * The retry policy asked for: the flags given, the rest left to the server; undefined for none.
 * @param {JobFlags} flags
 */
function retryOf(flags) {
  const retry = {
    maxAttempts: intOption('max-attempts', flags['max-attempts']),
    baseDelayMs: intOption('base-delay-ms', flags['base-delay-ms']),
    maxDelayMs: intOption('max-delay-ms', flags['max-delay-ms']),
  };
  const given = Object.entries(retry).filter(([, v]) => v !== undefined);
  return given.length > 0 ? Object.fromEntries(given) : undefined;
}

/**
 * What to extract: selectors, link URLs, page metadata; undefined when nothing is asked.
 * @param {JobFlags} flags
 */
function extractOf(flags) {
  const selectors = parseSelectors(flags.select);
  if (!selectors && !flags.links && !flags.meta) return undefined;
  return {
    ...(selectors ? { selectors } : {}),
    ...(flags.links ? { links: true } : {}),
    ...(flags.meta ? { meta: true } : {}),
  };
}

/** When a rendered page counts as loaded (`render.waitUntil`). */
const WAIT_UNTIL = ['load', 'domcontentloaded', 'networkidle0'];

/** The flag of each refinement of `render`. */
const RENDER_FLAGS = /** @type {const} */ ({
  waitUntil: 'render-wait-until',
  waitForSelector: 'render-wait-for',
  blockResources: 'render-all-resources',
});

/**
 * The rendering asked for: `true` (`--render`), `"auto"` (`--render-auto`), an object when it is
 * refined; undefined for none. A refinement without a mode is a usage error.
 * @param {JobFlags} flags
 * @returns {JobBody['render']}
 */
function renderOf(flags) {
  if (flags.render && flags['render-auto']) {
    throw new UsageError('--render and --render-auto: give one of them');
  }
  const mode = flags.render ? true : flags['render-auto'] ? 'auto' : undefined;
  const waitUntil = flags['render-wait-until'];
  if (waitUntil !== undefined && !WAIT_UNTIL.includes(waitUntil)) {
    throw new UsageError(
      `--render-wait-until: expected load, domcontentloaded or networkidle0, got "${waitUntil}"`,
    );
  }
  const refined = Object.fromEntries(
    [
      ['waitUntil', waitUntil],
      ['waitForSelector', flags['render-wait-for']],
      ['blockResources', flags['render-all-resources'] ? false : undefined],
    ].filter(([, v]) => v !== undefined),
  );
  const first = /** @type {keyof typeof RENDER_FLAGS | undefined} */ (Object.keys(refined)[0]);
  if (mode === undefined) {
    if (first !== undefined) {
      throw new UsageError(`--${RENDER_FLAGS[first]}: needs --render or --render-auto`);
    }
    return undefined;
  }
  return first === undefined ? mode : { mode, ...refined };
}

/**
 * The job body for `urls` under the given flags; options left out are left to server defaults.
 * @param {JobFlags} flags
 * @param {string[]} urls
 * @returns {JobBody}
 */
export function jobBody(flags, urls) {
  if (urls.length === 0) throw new UsageError('no URLs given: pass a FILE, - for stdin, or --url');
  const mode = flags.mode;
  if (mode !== undefined && mode !== 'settle' && mode !== 'failFast') {
    throw new UsageError(`--mode: expected settle or failFast, got "${mode}"`);
  }
  const notify = flags.notify;
  if (notify !== undefined && notify !== 'always' && notify !== 'changes') {
    throw new UsageError(`--notify: expected always or changes, got "${notify}"`);
  }
  /** @type {JobBody} */
  const body = {
    urls,
    concurrency: intOption('concurrency', flags.concurrency),
    perHostConcurrency: intOption('per-host', flags['per-host']),
    timeoutMs: intOption('timeout-ms', flags['timeout-ms']),
    deadlineMs: intOption('deadline-ms', flags['deadline-ms']),
    retry: retryOf(flags),
    perHostDelayMs: intOption('per-host-delay-ms', flags['per-host-delay-ms']),
    mode,
    maxBytes: intOption('max-bytes', flags['max-bytes']),
    respectRobots: flags.robots ? true : undefined,
    extract: extractOf(flags),
    callbackUrl: flags.callback,
    maxFailures: maxFailuresOption(flags['max-failures']),
    headers: parseHeaders(flags.header),
    userAgent: flags['user-agent'],
    store: flags['store-bodies'] ? { bodies: true } : undefined,
    compareWith: flags['compare-with'],
    notify,
    render: renderOf(flags),
    renderConcurrency: intOption('render-concurrency', flags['render-concurrency']),
  };
  for (const key of /** @type {(keyof JobBody)[]} */ (Object.keys(body))) {
    if (body[key] === undefined) delete body[key];
  }
  return body;
}
