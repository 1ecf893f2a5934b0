// fetchPage against a stubbed fetch: the exact outcome of each way a fetch can end. The pages
// here are read without HTMLRewriter (not HTML, or small UTF-8 HTML that scanHtml reads); a body
// is hashed with workerd's crypto.DigestStream, so the file needs workerd.
// test/worker/fetch-page.test.ts covers the real origin.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  fetchPage,
  MAX_REDIRECTS,
  type PageOutcome,
  type PageRequest,
} from '../../src/fetch/fetch-page';

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

/** Replaces the global fetch for one test; returns the URLs and inits it was called with. */
function stubFetch(handler: Handler) {
  const calls: { url: string; init: RequestInit }[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const call = { url: String(input), init: init ?? {} };
    calls.push(call);
    if (call.init.signal?.aborted) throw call.init.signal.reason;
    return handler(call.url, call.init);
  });
  return calls;
}

/** Routes by URL: each value is the response for that URL. */
function routes(table: Record<string, () => Response>): Handler {
  return (url) => {
    const make = table[url];
    if (!make) throw new Error(`unexpected fetch of ${url}`);
    return make();
  };
}

const redirect = (status: number, location: string): Response =>
  new Response(null, { status, headers: { location } });

/** A body that records whether it was cancelled; it ends after `text`, or never. */
function body(text: string, hang = false) {
  const state = { cancelled: false };
  let sent = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(new TextEncoder().encode(text));
          return;
        }
        if (hang) return new Promise<void>(() => undefined);
        controller.close();
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

/** Waits until `signal` aborts, then rejects with its reason, as fetch does. */
function untilAborted(signal: AbortSignal | null | undefined): Promise<Response> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason));
  });
}

const A = 'http://page.test/a';

function get(url: string, extra: Partial<PageRequest> = {}): Promise<PageOutcome> {
  return fetchPage({ url, timeoutMs: 5_000, maxBytes: 1_000, selectors: {}, ...extra });
}

/** The outcome without its timing fields, which are checked for sanity and dropped. */
function timeless(out: PageOutcome, before: number): Omit<PageOutcome, 'durationMs' | 'fetchedAt'> {
  const { durationMs, fetchedAt, ...rest } = out;
  expect(durationMs).toBeGreaterThanOrEqual(0);
  expect(durationMs).toBeLessThan(10_000);
  const at = Date.parse(fetchedAt);
  expect(fetchedAt).toBe(new Date(at).toISOString());
  expect(at).toBeGreaterThanOrEqual(before);
  expect(at).toBeLessThanOrEqual(Date.now());
  return rest;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fetchPage: a page that is read', () => {
  it('asks once, without following redirects, with its headers and its own signal', async () => {
    const job = new AbortController();
    const calls = stubFetch(
      () => new Response('ok', { headers: { 'content-type': 'text/plain' } }),
    );
    await get(A, { signal: job.signal });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(A);
    expect(calls[0]?.init.redirect).toBe('manual');
    expect(calls[0]?.init.headers).toEqual({
      'user-agent': 'scrape-fanout/0.1.0',
      accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
    });
    expect(calls[0]?.init.signal).not.toBe(job.signal);
    expect(calls[0]?.init.signal?.aborted).toBe(false);
  });

  it('reads a body that is not HTML without parsing it', async () => {
    const before = Date.now();
    stubFetch(() => new Response('hello', { headers: { 'content-type': 'text/plain' } }));
    expect(timeless(await get(A), before)).toEqual({
      ok: true,
      finalUrl: A,
      status: 200,
      contentType: 'text/plain',
      title: null,
      links: 0,
      bytes: 5,
      data: null,
      linkUrls: null,
      meta: null,
      etag: null,
      lastModified: null,
      // SHA-256 of "hello".
      contentHash: 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
      notModified: false,
      rendered: false,
      renderMs: null,
    });
  });

  it('gives every selector a null field when nothing was parsed', async () => {
    stubFetch(() => new Response('{}', { headers: { 'content-type': 'application/json' } }));
    const out = await get(A, { selectors: { a: 'h1', b: '.x' } });
    expect(out).toMatchObject({ ok: true, data: { a: null, b: null }, title: null, links: 0 });
  });

  it('extracts from a small HTML page, telling when its body is in', async () => {
    const page = '<title>Hello</title><a href=/1>1</a><a href=/2>2</a>';
    stubFetch(
      () =>
        new Response(page, {
          status: 203,
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-length': `${page.length}`,
          },
        }),
    );
    let bodyRead = 0;
    const before = Date.now();
    const out = await get(A, { onBodyRead: () => bodyRead++ });
    expect(timeless(out, before)).toEqual({
      ok: true,
      finalUrl: A,
      status: 203,
      contentType: 'text/html; charset=utf-8',
      title: 'Hello',
      links: 2,
      bytes: page.length,
      data: null,
      linkUrls: null,
      meta: null,
      etag: null,
      lastModified: null,
      // SHA-256 of `page`.
      contentHash: 'sha256:d6b3e163d94b8a23eae180e045d7f93a71385ba2610e09909994637315e33c80',
      notModified: false,
      rendered: false,
      renderMs: null,
    });
    expect(bodyRead).toBe(1);
  });

  it('reads a page declaring a length of 0 whole', async () => {
    const page = '<title>Zero</title>';
    stubFetch(
      () => new Response(page, { headers: { 'content-type': 'text/html', 'content-length': '0' } }),
    );
    let bodyRead = 0;
    const out = await get(A, { onBodyRead: () => bodyRead++ });
    expect(out).toMatchObject({ ok: true, title: 'Zero', bytes: page.length });
    expect(bodyRead).toBe(1);
  });

  it('parses HTML, XHTML and a body without a Content-Type; nothing else', async () => {
    const page = new TextEncoder().encode('<title>T</title><a href=x>');
    const cases: [string | null, boolean][] = [
      [null, true],
      ['', true],
      ['text/html', true],
      [' Text/HTML ; charset=UTF-8', true],
      ['application/xhtml+xml', true],
      ['text/htmlx', false],
      ['text/plain; note=text/html', false],
      ['application/json', false],
      ['image/svg+xml', false],
    ];
    for (const [type, parsed] of cases) {
      const headers: Record<string, string> = { 'content-length': `${page.length}` };
      if (type !== null) headers['content-type'] = type;
      stubFetch(() => new Response(page, { headers }));
      const out = await get(A);
      expect({ type, title: out.ok && out.title, links: out.ok && out.links }).toEqual({
        type,
        title: parsed ? 'T' : null,
        links: parsed ? 1 : 0,
      });
      vi.restoreAllMocks();
    }
  });

  it('fetches https too', async () => {
    const calls = stubFetch(() => new Response('x', { headers: { 'content-type': 'text/plain' } }));
    const out = await get('https://page.test/s');
    expect(out).toMatchObject({ ok: true, finalUrl: 'https://page.test/s' });
    expect(calls).toHaveLength(1);
  });

  it('accepts every 2xx', async () => {
    for (const status of [200, 201, 204, 299]) {
      stubFetch(() => new Response(null, { status, headers: { 'content-type': 'text/plain' } }));
      expect(await get(A)).toMatchObject({ ok: true, status, bytes: 0 });
      vi.restoreAllMocks();
    }
  });
});

describe('fetchPage: statuses and declared lengths', () => {
  it('reports a non-2xx as http_status with its Retry-After, and cancels its body', async () => {
    const { stream, state } = body('nope');
    stubFetch(
      () =>
        new Response(stream, {
          status: 503,
          headers: { 'content-type': 'text/html', 'retry-after': '120' },
        }),
    );
    const before = Date.now();
    expect(timeless(await get(A), before)).toEqual({
      ok: false,
      kind: 'http_status',
      message: 'HTTP 503',
      status: 503,
      finalUrl: A,
      contentType: 'text/html',
      bytes: 0,
      retryAfter: '120',
    });
    expect(state.cancelled).toBe(true);
  });

  it('takes a 3xx that is no redirect, or has no Location, as a status', async () => {
    for (const res of [
      () => new Response(null, { status: 300, headers: { location: '/b' } }),
      () => new Response(null, { status: 304, headers: { location: '/b' } }),
      () => new Response(null, { status: 302 }),
    ]) {
      const calls = stubFetch(res);
      const out = await get(A);
      expect(out).toMatchObject({ ok: false, kind: 'http_status', retryAfter: null });
      expect(out.ok ? '' : out.message).toMatch(/^HTTP 30[024]$/);
      expect(calls).toHaveLength(1);
      vi.restoreAllMocks();
    }
  });

  it('refuses a declared length over maxBytes before reading', async () => {
    const { stream, state } = body('x'.repeat(20));
    stubFetch(
      () =>
        new Response(stream, {
          headers: { 'content-type': 'text/plain', 'content-length': '20' },
        }),
    );
    const out = await get(A, { maxBytes: 19 });
    expect(out).toMatchObject({
      ok: false,
      kind: 'too_large',
      message: 'Content-Length 20 exceeds maxBytes (19)',
      status: 200,
      bytes: 0,
      retryAfter: null,
    });
    expect(state.cancelled).toBe(true);
  });

  it('reads a declared length of exactly maxBytes', async () => {
    stubFetch(
      () =>
        new Response('x'.repeat(20), {
          headers: { 'content-type': 'text/plain', 'content-length': '20' },
        }),
    );
    expect(await get(A, { maxBytes: 20 })).toMatchObject({ ok: true, bytes: 20 });
  });

  it('trusts the declared length only for an identity encoding', async () => {
    for (const [encoding, message] of [
      [' Identity ', 'Content-Length 20 exceeds maxBytes (19)'],
      ['gzip', 'body exceeds maxBytes (19): read 20 bytes'],
    ]) {
      stubFetch(
        () =>
          new Response('x'.repeat(20), {
            headers: {
              'content-type': 'text/plain',
              'content-length': '20',
              'content-encoding': `${encoding}`,
            },
          }),
      );
      expect(await get(A, { maxBytes: 19 })).toMatchObject({
        ok: false,
        kind: 'too_large',
        message,
      });
      vi.restoreAllMocks();
    }
  });

  it('stops reading past maxBytes without a declared length', async () => {
    stubFetch(() => new Response('x'.repeat(30), { headers: { 'content-type': 'text/plain' } }));
    expect(await get(A, { maxBytes: 29 })).toMatchObject({
      ok: false,
      kind: 'too_large',
      message: 'body exceeds maxBytes (29): read 30 bytes',
      bytes: 30,
      status: 200,
      contentType: 'text/plain',
    });
  });
});

describe('fetchPage: redirects', () => {
  it('follows each redirect status to a relative Location, cancelling the hop body', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const { stream, state } = body('moved');
      const calls = stubFetch(
        routes({
          [`${A}/c`]: () => new Response(stream, { status, headers: { location: '/b?x=1' } }),
          'http://page.test/b?x=1': () =>
            new Response('there', { headers: { 'content-type': 'text/plain' } }),
        }),
      );
      const out = await get(`${A}/c`);
      expect(out).toMatchObject({ ok: true, finalUrl: 'http://page.test/b?x=1', status: 200 });
      expect(calls.map((c) => c.url)).toEqual([`${A}/c`, 'http://page.test/b?x=1']);
      expect(state.cancelled).toBe(true);
      vi.restoreAllMocks();
    }
  });

  it(`follows ${MAX_REDIRECTS} hops and gives up at one more`, async () => {
    expect(MAX_REDIRECTS).toBe(10);
    const chain = (hops: number): Handler => {
      return (url) => {
        const n = Number(new URL(url).searchParams.get('n'));
        if (n < hops) return redirect(302, `/r?n=${n + 1}`);
        return new Response('end', { headers: { 'content-type': 'text/plain' } });
      };
    };
    const ok = stubFetch(chain(MAX_REDIRECTS));
    expect(await get('http://page.test/r?n=0')).toMatchObject({
      ok: true,
      finalUrl: `http://page.test/r?n=${MAX_REDIRECTS}`,
    });
    expect(ok).toHaveLength(MAX_REDIRECTS + 1);
    vi.restoreAllMocks();

    const over = stubFetch(chain(MAX_REDIRECTS + 1));
    expect(await get('http://page.test/r?n=0')).toMatchObject({
      ok: false,
      kind: 'redirect_loop',
      message: `more than ${MAX_REDIRECTS} redirects`,
      status: 302,
      finalUrl: `http://page.test/r?n=${MAX_REDIRECTS}`,
    });
    expect(over).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('stops at a URL already visited, fragments aside', async () => {
    stubFetch(
      routes({
        [`${A}#top`]: () => redirect(301, '/b'),
        'http://page.test/b': () => redirect(302, 'http://page.test/a#again'),
      }),
    );
    expect(await get(`${A}#top`)).toMatchObject({
      ok: false,
      kind: 'redirect_loop',
      message: 'redirect loop: http://page.test/a#again was already visited',
      finalUrl: 'http://page.test/b',
      status: 302,
    });
  });

  it('reports an unusable Location as network', async () => {
    stubFetch(() => redirect(302, 'http://[::1'));
    expect(await get(A)).toMatchObject({
      ok: false,
      kind: 'network',
      message: 'invalid redirect Location: http://[::1',
      status: 302,
      finalUrl: A,
    });
  });

  it('refuses a redirect to another scheme or to a blocked target', async () => {
    stubFetch(() => redirect(302, 'ftp://page.test/f'));
    expect(await get(A)).toMatchObject({
      ok: false,
      kind: 'blocked_target',
      message: 'not an http(s) URL: ftp://page.test/f',
      finalUrl: A,
    });
    vi.restoreAllMocks();

    const calls = stubFetch(() => redirect(307, 'http://10.0.0.1/x'));
    const seen: string[] = [];
    const isBlocked = (url: URL): boolean => {
      seen.push(url.href);
      return url.hostname === '10.0.0.1';
    };
    expect(await get(A, { isBlocked })).toMatchObject({
      ok: false,
      kind: 'blocked_target',
      message: 'blocked target: http://10.0.0.1/x',
      status: 307,
    });
    expect(seen).toEqual([A, 'http://10.0.0.1/x']);
    expect(calls).toHaveLength(1);
  });
});

describe('fetchPage: refused before any fetch', () => {
  it('refuses what is no URL, no http(s) URL, or blocked', async () => {
    const calls = stubFetch(() => new Response('x'));
    const before = Date.now();
    expect(timeless(await get('not a url'), before)).toEqual({
      ok: false,
      kind: 'network',
      message: 'invalid URL: not a url',
      status: null,
      finalUrl: null,
      contentType: null,
      bytes: 0,
      retryAfter: null,
    });
    expect(await get('file:///etc/passwd')).toMatchObject({
      ok: false,
      kind: 'blocked_target',
      message: 'not an http(s) URL: file:///etc/passwd',
      finalUrl: null,
    });
    expect(await get(A, { isBlocked: () => true })).toMatchObject({
      ok: false,
      kind: 'blocked_target',
      message: `blocked target: ${A}`,
    });
    expect(await get(A, { isBlocked: () => false })).toMatchObject({ ok: true });
    expect(calls).toHaveLength(1);
  });
});

describe('fetchPage: timeouts and aborts', () => {
  it('times out waiting for headers', async () => {
    const calls = stubFetch((_url, init) => untilAborted(init.signal));
    const out = await get(A, { timeoutMs: 30 });
    expect(out).toMatchObject({
      ok: false,
      kind: 'timeout',
      message: 'timed out after 30 ms',
      status: null,
      finalUrl: A,
    });
    const reason = calls[0]?.init.signal?.reason as DOMException;
    expect(reason.name).toBe('TimeoutError');
    expect(reason.message).toBe('timed out after 30 ms');
  });

  it('times out while the body streams', async () => {
    const { stream, state } = body('partial', true);
    stubFetch(() => new Response(stream, { headers: { 'content-type': 'text/plain' } }));
    expect(await get(A, { timeoutMs: 30 })).toMatchObject({
      ok: false,
      kind: 'timeout',
      message: 'timed out after 30 ms',
      status: 200,
      bytes: 7,
    });
    expect(state.cancelled).toBe(true);
  });

  it('is cancelled by a job signal aborted before or during the fetch', async () => {
    stubFetch((_url, init) => untilAborted(init.signal));
    expect(await get(A, { signal: AbortSignal.abort('gone') })).toMatchObject({
      ok: false,
      kind: 'cancelled',
      message: 'cancelled: gone',
    });

    const job = new AbortController();
    const pending = get(A, { signal: job.signal });
    await new Promise((r) => setTimeout(r, 10));
    job.abort(new Error('deadline passed'));
    expect(await pending).toMatchObject({
      ok: false,
      kind: 'cancelled',
      message: 'cancelled: deadline passed',
      finalUrl: A,
    });
  });

  it('names an abort without a reason', async () => {
    stubFetch((_url, init) => untilAborted(init.signal));
    const signal = {
      aborted: true,
      reason: undefined,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
    } as unknown as AbortSignal;
    expect(await get(A, { signal })).toMatchObject({
      ok: false,
      kind: 'cancelled',
      message: 'cancelled: aborted',
    });
  });

  it('leaves nothing armed once done: no timer, no job listener', async () => {
    const calls = stubFetch(() => new Response('x', { headers: { 'content-type': 'text/plain' } }));
    const job = new AbortController();
    expect(await get(A, { signal: job.signal, timeoutMs: 20 })).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 40));
    job.abort('late');
    expect(calls[0]?.init.signal?.aborted).toBe(false);
  });
});

describe('fetchPage: errors', () => {
  it('reports a failed fetch as network, by message or name', async () => {
    const cases: [unknown, string][] = [
      [new TypeError('fetch failed'), 'fetch failed'],
      [new TypeError(''), 'TypeError'],
      ['a string', 'a string'],
      [new Error('not internal error'), 'not internal error'],
    ];
    for (const [thrown, message] of cases) {
      stubFetch(() => {
        throw thrown;
      });
      expect(await get(A)).toMatchObject({
        ok: false,
        kind: 'network',
        message,
        status: null,
        finalUrl: A,
        retryAfter: null,
      });
      vi.restoreAllMocks();
    }
  });

  it("names the host for workerd's opaque connection errors", async () => {
    stubFetch(() => {
      throw new Error('internal error; reference = abc123');
    });
    expect(await get('http://page.test:8080/a')).toMatchObject({
      ok: false,
      kind: 'network',
      message:
        'could not reach page.test:8080 (DNS lookup or connect failed: internal error; reference = abc123)',
    });
    vi.restoreAllMocks();

    const isBlocked = (): boolean => {
      throw new Error('internal error in the guard');
    };
    expect(await get(A, { isBlocked })).toMatchObject({
      ok: false,
      kind: 'network',
      message: `could not reach ${A} (DNS lookup or connect failed: internal error in the guard)`,
      finalUrl: null,
    });
  });

  it('reports a parser error as invalid_content', async () => {
    stubFetch(() => {
      throw new Error('Parser error: bad bytes');
    });
    expect(await get(A)).toMatchObject({
      ok: false,
      kind: 'invalid_content',
      message: 'Parser error: bad bytes',
    });
  });
});
