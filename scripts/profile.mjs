#!/usr/bin/env node
// CPU profile of the local runtime while a workload runs: connects to wrangler dev's inspector
// (Chrome DevTools protocol), samples for the given seconds, prints the heaviest functions by
// self time, and writes the raw .cpuprofile (open it in Chrome DevTools).
// Usage: node scripts/profile.mjs SECONDS [WS_URL] [out.cpuprofile]. WS_URL defaults to
// wrangler dev's inspector proxy, ws://127.0.0.1:9229/ws (the first `npm start` on a machine
// gets port 9229), which only accepts a client that sends an allowed Origin header.
import { writeFileSync } from 'node:fs';

const seconds = Number(process.argv[2] ?? 10);
const wsUrl = process.argv[3] ?? 'ws://127.0.0.1:9229/ws';
const out = process.argv[4] ?? `/tmp/scrape-fanout-${Date.now()}.cpuprofile`;

// undici's WebSocket does not keep the event loop alive by itself.
const keepAlive = setInterval(() => {}, 1000);
// wrangler's inspector proxy (port 9229) refuses a connection without an allowed Origin.
const ws = new WebSocket(
  wsUrl,
  /** @type {any} */ ({ headers: { origin: 'http://127.0.0.1:9229' } }),
);
let nextId = 1;
/** @type {Map<number, (v: any) => void>} */
const pending = new Map();
ws.addEventListener('message', (ev) => {
  const msg = JSON.parse(String(ev.data));
  const resolve = msg.id ? pending.get(msg.id) : undefined;
  if (resolve) {
    pending.delete(msg.id);
    resolve(msg.result ?? msg.error);
  }
});
/** @param {string} method @param {object} [params] @returns {Promise<any>} */
function send(method, params = {}) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve) => pending.set(id, resolve));
}
await new Promise((resolve, reject) => {
  ws.addEventListener('open', resolve);
  ws.addEventListener('error', reject);
});
await send('Profiler.enable');
await send('Profiler.setSamplingInterval', { interval: 200 });
await send('Profiler.start');
console.error(`profiling for ${seconds}s...`);
await new Promise((r) => setTimeout(r, seconds * 1000));
const { profile } = await send('Profiler.stop');
ws.close();
clearInterval(keepAlive);
writeFileSync(out, JSON.stringify(profile));

/** @type {Map<number, any>} */
const nodes = new Map(profile.nodes.map((/** @type {any} */ n) => [n.id, n]));
/** @type {Map<number, number>} */
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
/** @type {Map<string, number>} */
const byFn = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const n = nodes.get(id);
  const f = n.callFrame;
  const file = (f.url || '').split('/').slice(-2).join('/');
  const key = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
  total += us;
}
// Where the samples fell: idle, the runtime's own C++ ("program"), garbage collection, the
// runtime's built-ins (native functions: fetch, timers, URL, ...) and the worker's JavaScript.
/** @type {Map<string, number>} */
const buckets = new Map();
for (const [id, us] of selfUs) {
  const f = nodes.get(id).callFrame;
  const name = f.functionName;
  const bucket =
    name === '(idle)' || name === '(program)' || name === '(garbage collector)'
      ? name
      : f.url
        ? 'worker JavaScript'
        : 'runtime built-ins';
  buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
}
const rows = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 40);
console.log(`total sampled ${(total / 1e6).toFixed(2)}s; profile written to ${out}`);
for (const [bucket, us] of [...buckets].sort((a, b) => b[1] - a[1])) {
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${bucket}`);
}
console.log('heaviest functions by self time:');
for (const [key, us] of rows) {
  console.log(
    `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${key}`,
  );
}
// wrangler's inspector proxy may never answer the WebSocket close frame while the runtime is
// busy, and the half-closed socket would keep this process (and whoever awaits it) alive.
process.exit(0);
