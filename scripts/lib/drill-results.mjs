// The crash drill's verdict on a job's results (scripts/chaos.mjs): every submitted URL has
// exactly one Result, none is lost, doubled or unknown, and the attempts add up to no more
// fetches than the origin saw.
import { allResults } from './harness.mjs';

/**
 * @typedef {import('./harness.mjs').Result} Result
 * @typedef {import('./harness.mjs').Origin} Origin
 */

/**
 * The results counted against the submitted URLs.
 * @param {Result[]} items @param {string[]} urls
 */
export function tallyResults(items, urls) {
  const submitted = new Set(urls);
  /** @type {Map<string, number>} */
  const seen = new Map();
  /** @type {Map<number, number>} */
  const attempts = new Map();
  /** @type {Map<string, number>} */
  const errors = new Map();
  let unknown = 0;
  let notOk = 0;
  for (const r of items) {
    seen.set(r.url, (seen.get(r.url) ?? 0) + 1);
    if (!submitted.has(r.url)) unknown++;
    attempts.set(r.attempts, (attempts.get(r.attempts) ?? 0) + 1);
    if (!r.ok) {
      notOk++;
      const kind = r.error?.kind ?? `status ${r.status}`;
      errors.set(kind, (errors.get(kind) ?? 0) + 1);
    }
  }
  const lost = urls.filter((u) => !seen.has(u));
  const doubled = [...seen].filter(([, c]) => c > 1);
  return { seen, attempts, errors, unknown, notOk, lost, doubled };
}

/**
 * Reads every result of the job from the server at `base` and checks it against what was
 * submitted; what is wrong goes into `drill.problems`.
 * @param {{ n: number, tag: string, problems: string[] }} drill
 * @param {string} base @param {Origin} origin @param {string} jobId @param {string[]} urls
 */
export async function checkResults(drill, base, origin, jobId, urls) {
  const { n, problems } = drill;
  const { items, pages, complete } = await allResults(base, jobId, 1000);
  if (!complete) problems.push('results paging did not end within its page limit');
  const { seen, attempts, errors, unknown, notOk, lost, doubled } = tallyResults(items, urls);
  const stats = await origin.stats(drill.tag).catch(() => null);
  console.log(
    `  results: ${items.length} in ${pages} page(s); distinct URLs ${seen.size}; lost ${lost.length}; ` +
      `doubled ${doubled.length}; not submitted ${unknown}; not ok ${notOk}` +
      (errors.size ? ` (${[...errors].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''),
  );
  console.log(
    `  attempts histogram: ${[...attempts]
      .sort((a, b) => a[0] - b[0])
      .map(([a, c]) => `${a}x: ${c}`)
      .join(', ')}`,
  );
  if (stats) {
    console.log(
      `  origin: ${stats.requests} requests for ${n} URLs (${stats.requests - n} re-fetched), ` +
        `max in flight ${stats.maxInFlight}, aborted ${stats.aborted}`,
    );
  }
  if (lost.length) {
    problems.push(`${lost.length} URL(s) lost, e.g. ${lost.slice(0, 3).join(' ')}`);
  }
  if (doubled.length) {
    problems.push(
      `${doubled.length} URL(s) doubled, e.g. ${doubled
        .slice(0, 3)
        .map(([u, c]) => `${u} x${c}`)
        .join(' ')}`,
    );
  }
  // attempts counts fetches that ran, so it can never exceed what the origin saw.
  const attemptSum = items.reduce((sum, r) => sum + r.attempts, 0);
  if (stats && attemptSum > stats.requests) {
    problems.push(
      `attempts add up to ${attemptSum}, more than the ${stats.requests} requests the origin saw`,
    );
  }
  if (items.length !== n) problems.push(`${items.length} results, expected exactly ${n}`);
  if (unknown) problems.push(`${unknown} result(s) for URLs never submitted`);
  if (notOk) problems.push(`${notOk} result(s) not ok although the origin is healthy`);
}
