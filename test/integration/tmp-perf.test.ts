import { inject, it } from 'vitest';
import { fetchPage } from '../../src/fetch/fetch-page';
const base = `http://127.0.0.1:${inject('originPort')}`;
async function run(label: string, fn: (i: number) => Promise<unknown>) {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => { while (next < 2000) { const i = next++; await fn(i); } }));
  console.log(label, (performance.now() - t0).toFixed(0), 'ms');
}
it('perf', async () => {
  for (let k = 0; k < 2; k++) {
  await run('bare fetch+text', async (i) => { const r = await fetch(`${base}/bench/${i}?tag=perf`); await r.text(); });
  await run('bare rewriter', async (i) => { const r = await fetch(`${base}/bench/${i}?tag=perf`); let n = 0; await new HTMLRewriter().on('a[href]', { element() { n++; } }).on('title', { text() {} }).transform(r).arrayBuffer(); return n; });
  await run('fetchPage', (i) => fetchPage({ url: `${base}/bench/${i}?tag=perf`, timeoutMs: 5000, maxBytes: 1e6, selectors: {} }));
  }
}, 120_000);
