/**
 * Micro-benchmark worker for the page-fetch path (never deployed). One request runs `n`
 * fetches of `url` with concurrency `k` using variant `v` and answers the wall time; the
 * driver (scripts/perf/run.mjs) reads the runtime's CPU time around it. `/floor` runs a job's
 * URLs through shards of 6 connections with nothing else (bench/floor.mjs).
 */

import { fetchPage } from '../../src/fetch/fetch-page';
import { scanHtml } from '../../src/fetch/scan-html';
import { MAX_CONNECTIONS_PER_SHARD } from '../../src/shard/protocol';
import type { FloorShard } from './floor-shard';

export { FloorShard } from './floor-shard';

interface PerfEnv {
  FLOOR_SHARD: DurableObjectNamespace<FloorShard>;
}

type Variant = (url: string) => Promise<number>;

function rewriter(counts: { links: number; title: string }): HTMLRewriter {
  return new HTMLRewriter()
    .on('title', {
      text: (t) => {
        counts.title += t.text;
      },
    })
    .on('a[href]', {
      element: () => {
        counts.links++;
      },
    });
}

const VARIANTS: Record<string, Variant> = {
  // (a) bare fetch, body read natively.
  a: async (url) => (await (await fetch(url)).arrayBuffer()).byteLength,
  // (b) bare fetch, body cancelled unread.
  b: async (url) => {
    const res = await fetch(url);
    await res.body?.cancel();
    return 0;
  },
  // body piped into a null sink.
  pipe: async (url) => {
    const res = await fetch(url);
    await res.body?.pipeTo(new WritableStream());
    return 0;
  },
  // body read by a JS reader loop.
  loop: async (url) => {
    const res = await fetch(url);
    const r = res.body?.getReader();
    let n = 0;
    if (!r) return 0;
    for (;;) {
      const { done, value } = await r.read();
      if (done) return n;
      n += value.byteLength;
    }
  },
  // fetch with the options fetchPage uses (manual redirects, headers, signal), body read.
  opts: async (url) => {
    const res = await fetch(url, {
      redirect: 'manual',
      signal: new AbortController().signal,
      headers: { 'user-agent': 'x', accept: 'text/html' },
    });
    return (await res.arrayBuffer()).byteLength;
  },
  ohdr: async (url) =>
    (
      await (
        await fetch(url, { headers: { 'user-agent': 'x', accept: 'text/html' } })
      ).arrayBuffer()
    ).byteLength,
  osig: async (url) =>
    (await (await fetch(url, { signal: new AbortController().signal })).arrayBuffer()).byteLength,
  oman: async (url) => (await (await fetch(url, { redirect: 'manual' })).arrayBuffer()).byteLength,
  // (c) HTMLRewriter with title + a[href] handlers, output drained natively.
  c: async (url) => {
    const counts = { links: 0, title: '' };
    const out = rewriter(counts).transform(await fetch(url));
    await out.arrayBuffer();
    return counts.links;
  },
  // HTMLRewriter: title handlers only.
  ctitle: async (url) => {
    const counts = { links: 0, title: '' };
    const out = new HTMLRewriter()
      .on('title', {
        element: () => {
          counts.links++;
        },
        text: (t) => {
          counts.title += t.text;
        },
      })
      .transform(await fetch(url));
    await out.arrayBuffer();
    return counts.links;
  },
  // HTMLRewriter: a[href] element handler only.
  clinks: async (url) => {
    const counts = { links: 0, title: '' };
    const out = new HTMLRewriter()
      .on('a[href]', {
        element: () => {
          counts.links++;
        },
      })
      .transform(await fetch(url));
    await out.arrayBuffer();
    return counts.links;
  },
  // HTMLRewriter: selectors registered, no handler functions.
  cempty: async (url) => {
    const out = new HTMLRewriter()
      .on('a[href]', {})
      .on('title', {})
      .transform(await fetch(url));
    await out.arrayBuffer();
    return 0;
  },
  // HTMLRewriter: document-level text handler only (how many text calls?).
  cdoctext: async (url) => {
    let n = 0;
    const out = new HTMLRewriter()
      .onDocument({
        text: () => {
          n++;
        },
      })
      .transform(await fetch(url));
    await out.arrayBuffer();
    return n;
  },
  // HTMLRewriter without handlers.
  c0: async (url) => {
    const out = new HTMLRewriter().transform(await fetch(url));
    await out.arrayBuffer();
    return 0;
  },
  // (c) but the output is cancelled/piped instead of buffered.
  cpipe: async (url) => {
    const counts = { links: 0, title: '' };
    const out = rewriter(counts).transform(await fetch(url));
    await out.body?.pipeTo(new WritableStream());
    return counts.links;
  },
  // (c) on a body read into memory first (one big chunk).
  cbuf: async (url) => {
    const res = await fetch(url);
    const buf = await res.arrayBuffer();
    const counts = { links: 0, title: '' };
    const out = rewriter(counts).transform(new Response(buf, { headers: res.headers }));
    await out.arrayBuffer();
    return counts.links;
  },
  // (a) plus an AbortController and an armed-then-cleared setTimeout.
  timer: async (url) => {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 10_000);
    try {
      return (await (await fetch(url, { signal: ac.signal })).arrayBuffer()).byteLength;
    } finally {
      clearTimeout(t);
    }
  },
  // (a) + TextDecoder + scanHtml: the floor of the JS fast path.
  scan: async (url) => {
    const buf = await (await fetch(url)).arrayBuffer();
    return scanHtml(new TextDecoder().decode(buf))?.links ?? -1;
  },
  // (d) our fetchPage.
  d: async (url) => {
    const out = await fetchPage({ url, timeoutMs: 10_000, maxBytes: 5_000_000, selectors: {} });
    if (!out.ok) throw new Error(`${out.kind}: ${out.message}`);
    return out.links;
  },
  // (d) with one selector field.
  dsel: async (url) => {
    const out = await fetchPage({
      url,
      timeoutMs: 10_000,
      maxBytes: 5_000_000,
      selectors: { h: 'h1' },
    });
    if (!out.ok) throw new Error(`${out.kind}: ${out.message}`);
    return out.links;
  },
  // timers only (no fetch).
  tonly: async () => {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 10_000);
    await Promise.resolve();
    clearTimeout(t);
    return 0;
  },
};

/**
 * `/floor?url&n&c`: n URLs over ceil(c/6) shard objects of at most 6 connections, each given
 * its share of the URLs up front (by connections), all started at once. Answers the wall time
 * from the first start to the last shard done.
 */
async function floor(q: URLSearchParams, env: PerfEnv): Promise<Response> {
  const url = q.get('url') ?? '';
  const n = Number(q.get('n') ?? 1000);
  const c = Number(q.get('c') ?? 50);
  const run = Number(q.get('run') ?? 0);
  if (!url || !(n > 0) || !(c > 0) || c > 1000) return new Response('bad query', { status: 400 });
  const shards = Math.ceil(c / MAX_CONNECTIONS_PER_SHARD);
  const started = Date.now();
  const runs = Array.from({ length: shards }, (_, s) => {
    const slots = Math.min(MAX_CONNECTIONS_PER_SHARD, c - s * MAX_CONNECTIONS_PER_SHARD);
    // URLs split by connections; the remainder goes one each to the first shards.
    const before = Math.floor((n * s * MAX_CONNECTIONS_PER_SHARD) / c);
    const upto = s === shards - 1 ? n : Math.floor((n * (s + 1) * MAX_CONNECTIONS_PER_SHARD) / c);
    // A fresh object name per run, as a job's shards are.
    return env.FLOOR_SHARD.getByName(`${run}/${s}`).run(url, before, upto - before, slots);
  });
  const done = await Promise.all(runs);
  const failed = done.reduce((sum, r) => sum + r.failed, 0);
  const firstError = done.find((r) => r.firstError)?.firstError ?? '';
  return Response.json({ wallMs: Date.now() - started, n, c, shards, failed, firstError });
}

export default {
  async fetch(request: Request, env: PerfEnv): Promise<Response> {
    const { pathname, searchParams: q } = new URL(request.url);
    if (pathname === '/floor') return floor(q, env);
    // The readiness probe of scripts/lib/harness.mjs.
    if (pathname === '/' && !q.has('v')) return new Response('ok');
    const variant = VARIANTS[q.get('v') ?? 'a'];
    const n = Number(q.get('n') ?? 1000);
    const k = Number(q.get('k') ?? 200);
    const url = q.get('url') ?? '';
    if (!variant) return new Response('unknown variant', { status: 400 });
    let next = 0;
    let check = 0;
    let errors = 0;
    let firstError = '';
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        try {
          check += await variant(`${url}${url.includes('?') ? '&' : '?'}i=${i}`);
        } catch (err) {
          errors++;
          firstError ||= String(err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(k, n) }, worker));
    return Response.json({ wallMs: Date.now() - started, n, k, check, errors, firstError });
  },
};
