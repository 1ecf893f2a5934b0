// The body's SHA-256 and its sink, on every path of readBody, with hand-made bodies (the real
// origin's side is test/worker/conditional-fetch.test.ts). Needs workerd: crypto.DigestStream.
import { describe, expect, it } from 'vitest';
import {
  BodyError,
  EMPTY_SHA256_HEX,
  StreamHash,
  StreamTap,
  sha256Hex,
  sinkStep,
} from '../../src/fetch/body-io';
import type { BodySink } from '../../src/fetch/body-sink';
import type { createExtractor } from '../../src/fetch/extract';
import type { PageRequest } from '../../src/fetch/fetch-page';
import { readBody } from '../../src/fetch/read-body';
import { toHex } from '../../src/lib/hex';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** The expected hash, computed independently of the code under test. */
async function expected(...chunks: Uint8Array[]): Promise<string> {
  const whole = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.byteLength;
  }
  return toHex(await crypto.subtle.digest('SHA-256', whole));
}

/** A body that yields `chunks` one read at a time, then ends (or hangs). */
function source(chunks: Uint8Array[], hang = false): ReadableStream<Uint8Array> {
  let reads = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[reads++];
        if (next !== undefined) return controller.enqueue(next);
        if (hang) return new Promise<void>(() => undefined);
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

function request(extra: Partial<PageRequest> = {}): PageRequest {
  return {
    url: 'http://body.test/',
    timeoutMs: 5_000,
    maxBytes: 5_000_000,
    selectors: {},
    ...extra,
  };
}

const html = (body: BodyInit | null, type = 'text/html'): Response =>
  new Response(body, { headers: { 'content-type': type } });

const live = (): AbortSignal => new AbortController().signal;

/** A real extractor is not needed to hash: the rewriter's part is a pass-through. */
function passThrough() {
  const transform = (res: Response): Response => new Response(res.body);
  const result = { title: 'stub', links: 0, data: null };
  return () =>
    ({ rewriter: { transform }, result: () => result }) as unknown as ReturnType<
      typeof createExtractor
    >;
}

/** A sink that records what it is given; `failAt` makes the write of that chunk reject. */
function recordingSink(failAt = -1) {
  const log = { chunks: [] as Uint8Array[], closed: null as string | null, aborted: 0 };
  const sink: BodySink = {
    write: async (chunk) => {
      if (log.chunks.length === failAt) throw new Error('disk full');
      log.chunks.push(chunk.slice());
    },
    close: async (hex) => {
      log.closed = hex;
    },
    abort: async () => {
      log.aborted++;
    },
  };
  return { sink, log };
}

describe('the hashes', () => {
  it('knows the hash of no bytes', async () => {
    expect(EMPTY_SHA256_HEX).toBe(await expected());
    expect(await new StreamHash().hex()).toBe(EMPTY_SHA256_HEX);
  });

  it('hashes a buffer and a stream of chunks written without waiting, in order', async () => {
    const chunks = Array.from({ length: 200 }, (_, i) => encode(`chunk ${i};`.repeat(i % 7)));
    const hash = new StreamHash();
    for (const c of chunks) hash.update(c);
    expect(await hash.hex()).toBe(await expected(...chunks));
    expect(await sha256Hex(encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('readBody: the hash of every path', () => {
  const page = encode('<title>Small caf\u00e9</title><a href=1>');

  it('hashes a small HTML body read whole', async () => {
    const progress = { bytes: 0, hash: null as string | null };
    await readBody(html(page), page.length, request(), live(), passThrough(), progress);
    expect(progress.hash).toBe(await expected(page));
  });

  it('hashes a streamed HTML body, sniffed or with a header charset, and one not parsed', async () => {
    const chunks = [encode('<p>one'), encode(' two \u00e9'), encode('</p>'.repeat(500))];
    for (const [type, parsed] of [
      ['text/html', true],
      ['text/html; charset=windows-1252', true],
      ['application/octet-stream', false],
    ] as const) {
      const progress = { bytes: 0, hash: null as string | null };
      const make = parsed ? passThrough() : null;
      await readBody(html(source(chunks), type), null, request(), live(), make, progress);
      expect({ type, hash: progress.hash }).toEqual({ type, hash: await expected(...chunks) });
    }
  });

  it('hashes no body as no bytes', async () => {
    const progress = { bytes: 0, hash: null as string | null };
    await readBody(html(null), null, request(), live(), passThrough(), progress);
    expect(progress.hash).toBe(EMPTY_SHA256_HEX);
  });

  it('leaves the hash unset for a body cut off (too large, aborted)', async () => {
    const chunks = [encode('a'.repeat(600)), encode('b'.repeat(600))];
    for (const make of [passThrough(), null]) {
      const progress = { bytes: 0, hash: null as string | null };
      const req = request({ maxBytes: 1_000 });
      const read = readBody(html(source(chunks)), null, req, live(), make, progress);
      await expect(read).rejects.toMatchObject({ kind: 'too_large' });
      expect(progress.hash).toBeNull();
    }
    const progress = { bytes: 0, hash: null as string | null };
    const small = readBody(
      html(page),
      page.length,
      request({ maxBytes: 3 }),
      live(),
      passThrough(),
      progress,
    );
    await expect(small).rejects.toMatchObject({ kind: 'too_large' });
    expect(progress.hash).toBeNull();

    const controller = new AbortController();
    const hanging = readBody(
      html(source(chunks, true)),
      null,
      request(),
      controller.signal,
      passThrough(),
      progress,
    );
    await new Promise((r) => setTimeout(r, 10));
    controller.abort('stop');
    await expect(hanging).rejects.toBe('stop');
    expect(progress.hash).toBeNull();
  });
});

describe('readBody: the sink', () => {
  it('gets a small body whole, and a streamed one chunk by chunk, in order', async () => {
    const page = encode('<title>Small</title>');
    const small = recordingSink();
    await readBody(
      html(page),
      page.length,
      request(),
      live(),
      passThrough(),
      { bytes: 0 },
      small.sink,
    );
    expect(small.log.chunks).toEqual([page]);

    const chunks = Array.from({ length: 50 }, (_, i) => encode(`<p>${i}</p>`));
    const streamed = recordingSink();
    const progress = { bytes: 0, hash: null as string | null };
    await readBody(
      html(source(chunks)),
      null,
      request(),
      live(),
      passThrough(),
      progress,
      streamed.sink,
    );
    expect(streamed.log.chunks).toEqual(chunks);
    expect(progress.hash).toBe(await expected(...chunks));
    // Closing and aborting are fetchPage's: readBody only writes.
    expect([streamed.log.closed, streamed.log.aborted]).toEqual([null, 0]);
  });

  it('turns a failed write into a network BodyError, while peeking and while streaming', async () => {
    const chunks = Array.from({ length: 20 }, (_, i) => encode(`<p>${'x'.repeat(100)}${i}</p>`));
    for (const failAt of [0, 15]) {
      const { sink, log } = recordingSink(failAt);
      const progress = { bytes: 0, hash: null as string | null };
      const read = readBody(
        html(source(chunks)),
        null,
        request(),
        live(),
        passThrough(),
        progress,
        sink,
      );
      await expect(read).rejects.toBeInstanceOf(BodyError);
      await expect(read).rejects.toMatchObject({
        kind: 'network',
        message: 'could not store the body: disk full',
      });
      expect(log.chunks).toHaveLength(failAt);
      expect(progress.hash).toBeNull();
    }
  });

  it('bounds a sink step by the abort signal, and names a thrown failure', async () => {
    const controller = new AbortController();
    const step = sinkStep(() => new Promise<void>(() => undefined), controller.signal);
    controller.abort('timed out');
    await expect(step).rejects.toBe('timed out');
    await expect(
      sinkStep(() => {
        throw new TypeError('no bucket');
      }, live()),
    ).rejects.toMatchObject({ kind: 'network', message: 'could not store the body: no bucket' });
    const tap = new StreamTap(null, live());
    expect(await tap.stored(encode('x'))).toBe(true);
  });
});
