// fetchRobots with a stubbed fetch: what each status, body and failure turns into.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchRobots } from '../../src/fetch/robots-fetch';

const URL_ = 'http://robots.test/robots.txt';

/** Replaces the global fetch for one test; returns the spy. */
function stubFetch(impl: (url: string, init: RequestInit) => Promise<Response>) {
  return vi
    .spyOn(globalThis, 'fetch')
    .mockImplementation((input, init) => impl(String(input), init ?? {}));
}

/** A body of `chunks`, recording whether it was cancelled and how many chunks were read. */
function chunkedBody(chunks: Uint8Array[]): {
  body: ReadableStream<Uint8Array>;
  state: { pulls: number; cancelled: boolean };
} {
  const state = { pulls: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[state.pulls++];
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { body, state };
}

/**
 * `bytes` bytes of robots.txt comment: mostly 3-byte characters, so that the text stays
 * shorter than parseRobots' own 500 KiB character bound while the bytes reach the 512 KiB cap.
 */
function commentBytes(bytes: number): Uint8Array {
  const wide = Math.floor((bytes - 2) / 3);
  const text = `#${'\u20ac'.repeat(wide)}${'\n'.repeat(bytes - 1 - 3 * wide)}`;
  const out = new TextEncoder().encode(text);
  expect(out.length).toBe(bytes);
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fetchRobots', () => {
  it('parses a 2xx body, following redirects, under both signals', async () => {
    const job = new AbortController();
    const spy = stubFetch(
      async () => new Response('User-agent: *\nDisallow: /private\nAllow: /private/ok'),
    );
    const rules = await fetchRobots(URL_, 5_000, job.signal);
    expect(rules).toEqual({ allow: ['/private/ok'], disallow: ['/private'] });
    expect(spy).toHaveBeenCalledTimes(1);
    const [url, init] = spy.mock.calls[0] ?? [];
    expect(url).toBe(URL_);
    expect(init?.redirect).toBe('manual');
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    expect(init?.signal?.aborted).toBe(false);
    job.abort('stop');
    expect(init?.signal?.aborted).toBe(true);
  });

  it('follows redirects itself, up to five, guarding every hop', async () => {
    const blocked = (u: URL) => u.hostname === '127.0.0.1';
    const hops: string[] = [];
    stubFetch(async (url) => {
      hops.push(url);
      if (url === URL_) return new Response(null, { status: 301, headers: { location: '/moved' } });
      return new Response('User-agent: *\nDisallow: /x');
    });
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal, blocked)).toEqual({
      allow: [],
      disallow: ['/x'],
    });
    expect(hops).toEqual([URL_, 'http://robots.test/moved']);
  });

  it('never asks a blocked host, and counts a redirect into blocked space as unreachable', async () => {
    const blocked = (u: URL) => u.hostname === '127.0.0.1';
    const hops: string[] = [];
    stubFetch(async (url) => {
      hops.push(url);
      return new Response(null, { status: 307, headers: { location: 'http://127.0.0.1:8/r' } });
    });
    const job = new AbortController().signal;
    // The blocked host itself: no request, no rules (its pages are refused on their own).
    expect(await fetchRobots('http://127.0.0.1:9/robots.txt', 5_000, job, blocked)).toEqual({
      allow: [],
      disallow: [],
    });
    expect(hops).toEqual([]);
    // A public host redirecting there: disallow all, and the private address is never asked.
    expect(await fetchRobots(URL_, 5_000, job, blocked)).toEqual({
      allow: [],
      disallow: ['/'],
      unreachable: 'redirected to a blocked address',
    });
    expect(hops).toEqual([URL_]);
  });

  it('treats more than five redirects as no robots.txt', async () => {
    let calls = 0;
    stubFetch(async () => {
      calls++;
      return new Response(null, { status: 302, headers: { location: `/r${calls}` } });
    });
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: [],
    });
    expect(calls).toBe(6);
  });

  it('treats a 4xx as no rules and a 5xx as disallow-all, without reading the body', async () => {
    const notFound = chunkedBody([new TextEncoder().encode('Disallow: /')]);
    stubFetch(async () => new Response(notFound.body, { status: 404 }));
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: [],
    });
    expect(notFound.state.cancelled).toBe(true);

    const down = chunkedBody([new TextEncoder().encode('User-agent: *\nAllow: /')]);
    stubFetch(async () => new Response(down.body, { status: 503 }));
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: ['/'],
      unreachable: 'HTTP 503',
    });
    expect(down.state.cancelled).toBe(true);
  });

  it('treats a 4xx without a body as no rules', async () => {
    stubFetch(async () => new Response(null, { status: 410 }));
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: [],
    });
  });

  it('treats a 2xx without a body as an empty file', async () => {
    stubFetch(async () => new Response(null, { status: 204 }));
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: [],
    });
  });

  it('treats a failed fetch as disallow-all', async () => {
    stubFetch(async () => {
      throw new TypeError('fetch failed');
    });
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: ['/'],
      unreachable: 'fetch failed',
    });
  });

  it('gives up at its timeout: disallow-all', async () => {
    stubFetch(
      (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const started = Date.now();
    expect(await fetchRobots(URL_, 50, new AbortController().signal)).toEqual({
      allow: [],
      disallow: ['/'],
      unreachable: 'timed out after 50 ms',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const text = new TextEncoder().encode('User-agent: *\nDisallow: /caf\u00e9\n');
    const cut = text.indexOf(0xc3) + 1; // between the two bytes of the e-acute
    const { body } = chunkedBody([text.slice(0, cut), text.slice(cut)]);
    stubFetch(async () => new Response(body));
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: ['/caf%C3%A9'],
    });
  });

  it('reads at most 512 KiB, stopping at the chunk that reaches it', async () => {
    const kib = 1024;
    const rule = new TextEncoder().encode('User-agent: *\nDisallow: /a\n');
    const filler = commentBytes(512 * kib - rule.length);
    const after = new TextEncoder().encode('Disallow: /b\n');
    const { body, state } = chunkedBody([rule, filler, after]);
    stubFetch(async () => new Response(body));
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: ['/a'],
    });
    expect(state.cancelled).toBe(true);
  });

  it('reads on past one byte short of the cap', async () => {
    const rule = new TextEncoder().encode('User-agent: *\nDisallow: /a\n');
    const filler = commentBytes(512 * 1024 - rule.length - 1);
    const after = new TextEncoder().encode('Disallow: /b\n');
    const { body } = chunkedBody([rule, filler, after]);
    stubFetch(async () => new Response(body));
    expect(await fetchRobots(URL_, 5_000, new AbortController().signal)).toEqual({
      allow: [],
      disallow: ['/a', '/b'],
    });
  });

  it("asks with the job's User-Agent and takes the rules of its group", async () => {
    const agents: Array<string | null> = [];
    stubFetch(async (_url, init) => {
      agents.push(new Headers(init.headers).get('user-agent'));
      const body = 'User-agent: mybot\nDisallow: /mine/\n\nUser-agent: *\nDisallow: /\n';
      return new Response(body, { status: 200 });
    });
    const signal = new AbortController().signal;
    const rules = await fetchRobots(URL_, 5_000, signal, undefined, 'MyBot/2.0 (+mailto:o@x)');
    expect(rules).toEqual({ allow: [], disallow: ['/mine/'] });
    expect(agents).toEqual(['MyBot/2.0 (+mailto:o@x)']);
    expect(await fetchRobots(URL_, 5_000, signal)).toEqual({ allow: [], disallow: ['/'] });
  });
});
