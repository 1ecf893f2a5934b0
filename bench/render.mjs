// The rendering benchmark (`npm run bench -- render`): 200 script-built pages rendered
// (`render: true`) with renderConcurrency 2 and 4, then 200 pages half script-built, half
// static with `render: "auto"`. Reports pages/s, the CPU of workerd and of the Chromium
// processes, and their peak memory (PSS, so pages shared between Chromium's processes count
// once). See bench/README.md.
import { readFileSync } from 'node:fs';
import { startBenchStack } from '../scripts/lib/bench-stack.mjs';
import {
  descendants,
  pollUntilEnd,
  procMeter,
  readStat,
  submitJob,
} from '../scripts/lib/harness.mjs';

const PAGES = 200;
const POLL_MS = 100;

/** @param {number} pid  Proportional set size in kB (0 when gone or unreadable). */
function pssKb(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * The Chromium processes under the server (Miniflare starts them from wrangler's process).
 * @param {import('../scripts/lib/harness.mjs').Server} server
 */
function chromiumPids(server) {
  return descendants(server.pid).filter((p) => /^chrom/.test(readStat(p)?.comm ?? ''));
}

/**
 * One job polled to its end, with meters on workerd and on Chromium.
 * @param {import('../scripts/lib/harness.mjs').Server} server
 * @param {Record<string, unknown>} body
 */
async function measuredJob(server, body) {
  const workerd = procMeter(() => server.workerdPids());
  const chrome = procMeter(() => chromiumPids(server));
  workerd.sample();
  chrome.sample();
  let peakChromePssKb = 0;
  const t0 = performance.now();
  const { id } = await submitJob(server.base, body);
  const view = await pollUntilEnd(server.base, id, POLL_MS, () => {
    workerd.sample();
    chrome.sample();
    let pss = 0;
    for (const p of chromiumPids(server)) pss += pssKb(p);
    peakChromePssKb = Math.max(peakChromePssKb, pss);
  });
  const wallS = (performance.now() - t0) / 1000;
  const res = await fetch(`${server.base}/v1/jobs/${id}/results?limit=1000`, {
    headers: { authorization: 'Bearer dev-token' },
  });
  const items = /** @type {{ items: Array<{ rendered?: boolean, ok: boolean }> }} */ (
    await res.json()
  ).items;
  return {
    status: view.status,
    ok: items.filter((r) => r.ok).length,
    rendered: items.filter((r) => r.rendered).length,
    wallS: Number(wallS.toFixed(2)),
    pagesPerS: Number((PAGES / wallS).toFixed(1)),
    workerdCpuS: workerd.cpuS(),
    chromiumCpuS: chrome.cpuS(),
    workerdPeakMB: Math.round(workerd.peakMB()),
    chromiumPeakPssMB: Math.round(peakChromePssKb / 1024),
  };
}

async function main() {
  const { stamp, origin, server, save, stop } = await startBenchStack('render');
  const scriptPage = (/** @type {string} */ t, /** @type {number} */ i) =>
    `${origin.baseUrl()}/script-page?title=Rendered+${i}&links=5&tag=${t}&i=${i}`;
  const staticPage = (/** @type {string} */ t, /** @type {number} */ i) =>
    `${origin.baseUrl()}/page?title=Static+${i}&links=5&tag=${t}&i=${i}`;
  /** @type {Record<string, unknown>} */
  const out = {};
  try {
    for (const tabs of [2, 4]) {
      const t = `render-${tabs}-${stamp}`;
      const urls = Array.from({ length: PAGES }, (_, i) => scriptPage(t, i));
      out[`render true, ${tabs} tabs`] = await measuredJob(server, {
        urls,
        concurrency: 10,
        render: true,
        renderConcurrency: tabs,
      });
    }
    const t = `render-auto-${stamp}`;
    const mixed = Array.from({ length: PAGES }, (_, i) =>
      i % 2 === 0 ? scriptPage(t, i) : staticPage(t, i),
    );
    out['render "auto", half static, 4 tabs'] = await measuredJob(server, {
      urls: mixed,
      concurrency: 10,
      render: 'auto',
      renderConcurrency: 4,
    });
    out['render false (static only), same mix'] = await measuredJob(server, {
      urls: mixed.map((u) => `${u}&plain=1`),
      concurrency: 10,
    });
  } finally {
    await stop();
  }
  console.log(`\n${PAGES} pages per job, concurrency 10, local origin without latency:`);
  console.table(out);
  console.log(`results: ${save({ out })}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
