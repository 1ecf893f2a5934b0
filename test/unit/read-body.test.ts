// readBody's strategies, driven with hand-made bodies and a stand-in for the HTMLRewriter
// extractor (it passes the bytes through and records what it was given), so that each path
// (not parsed, small HTML, header charset, sniffed charset) runs without HTMLRewriter. Bodies
// are hashed with workerd's crypto.DigestStream, so the file needs workerd.
import { describe, expect, it } from 'vitest';
import type { createExtractor, Extracted } from '../../src/fetch/extract';
import type { PageRequest } from '../../src/fetch/fetch-page';
import { BodyError, cancelQuietly, errorMessage, readBody } from '../../src/fetch/read-body';

type Extractor = ReturnType<typeof createExtractor>;

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const decode = (chunks: Uint8Array[]): string =>
  chunks.map((c) => String.fromCharCode(...c)).join('');

/** The largest declared length read whole (read-body's BUFFER_LIMIT). */
const BUFFER_LIMIT = 256 * 1024;

/** A body that yields `chunks` one read at a time, then ends, fails or hangs. */
function source(chunks: Uint8Array[], end: { hang?: boolean; failWith?: unknown } = {}) {
  const state = { cancelled: false, reads: 0 };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[state.reads++];
        if (next !== undefined) return controller.enqueue(next);
        if (end.failWith !== undefined) return controller.error(end.failWith);
        if (end.hang) return new Promise<void>(() => undefined);
        controller.close();
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { body, state };
}

/** What the stand-in rewriter was given, per transform. */
interface Seen {
  contentType: string | null;
  chunks: Uint8Array[];
}

/** A stand-in extractor factory: a pass-through rewriter that records its input. */
function stubExtractor(fail?: unknown) {
  const seen: Seen[] = [];
  const result: Extracted = { title: 'from the rewriter', links: 7, data: { f: 'x' } };
  let made = 0;
  const make = (): Extractor => {
    made++;
    const transform = (res: Response): Response => {
      if (fail !== undefined) throw fail;
      const entry: Seen = { contentType: res.headers.get('content-type'), chunks: [] };
      seen.push(entry);
      const input = res.body?.getReader();
      if (!input) return new Response(null);
      const out = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const { done, value } = await input.read();
            if (done) return controller.close();
            entry.chunks.push(value);
            controller.enqueue(value);
          },
          cancel: (reason) => input.cancel(reason),
        },
        { highWaterMark: 0 },
      );
      return new Response(out);
    };
    return { rewriter: { transform }, result: () => result } as unknown as Extractor;
  };
  return { make, seen, result, made: () => made };
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

function html(body: BodyInit | null, contentType = 'text/html'): Response {
  return new Response(body, { headers: { 'content-type': contentType } });
}

const live = (): AbortSignal => new AbortController().signal;

describe('errorMessage, cancelQuietly, BodyError', () => {
  it('names an error by its message, else by its name', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage(new RangeError(''))).toBe('RangeError');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });

  it('cancels quietly, whatever the target', async () => {
    expect(() => cancelQuietly(null)).not.toThrow();
    expect(() => cancelQuietly(undefined)).not.toThrow();
    let reason: unknown = 'not called';
    cancelQuietly({
      cancel: async (r?: unknown) => {
        reason = r;
      },
    });
    expect(reason).toBeUndefined();
    cancelQuietly({ cancel: () => Promise.reject(new Error('ignored')) });
    await new Promise((r) => setTimeout(r, 0));
  });

  it('carries its kind', () => {
    const err = new BodyError('too_large', 'big');
    expect(err).toBeInstanceOf(Error);
    expect(err.kind).toBe('too_large');
    expect(err.message).toBe('big');
  });
});

describe('readBody: no body', () => {
  it('gives the empty extraction for HTML and null otherwise', async () => {
    const stub = stubExtractor();
    const progress = { bytes: 0 };
    expect(await readBody(html(null), null, request(), live(), stub.make, progress)).toBe(
      stub.result,
    );
    expect(stub.made()).toBe(1);
    expect(stub.seen).toEqual([]);
    expect(await readBody(html(null), 0, request(), live(), null, progress)).toBeNull();
    expect(progress.bytes).toBe(0);
  });
});

describe('readBody: a body that is not parsed', () => {
  it('counts every byte and resolves to null', async () => {
    const { body, state } = source([encode('abc'), encode('defg')]);
    const progress = { bytes: 0 };
    expect(await readBody(html(body), 7, request({ maxBytes: 7 }), live(), null, progress)).toBe(
      null,
    );
    expect(progress.bytes).toBe(7);
    expect(state.cancelled).toBe(false);
  });

  it('stops past maxBytes with too_large and cancels the body', async () => {
    const { body, state } = source([encode('abc'), encode('defg'), encode('h')]);
    const progress = { bytes: 0 };
    const read = readBody(html(body), null, request({ maxBytes: 6 }), live(), null, progress);
    await expect(read).rejects.toMatchObject({
      kind: 'too_large',
      message: 'body exceeds maxBytes (6): read 7 bytes',
    });
    await expect(read).rejects.toBeInstanceOf(BodyError);
    expect(progress.bytes).toBe(7);
    expect(state.reads).toBe(2);
    expect(state.cancelled).toBe(true);
  });

  it('rejects with the abort reason, at once or mid-body', async () => {
    const early = source([encode('abc')]);
    const read = readBody(html(early.body), null, request(), AbortSignal.abort('gone'), null, {
      bytes: 0,
    });
    await expect(read).rejects.toBe('gone');
    expect(early.state.cancelled).toBe(true);

    const late = source([encode('abc')], { hang: true });
    const controller = new AbortController();
    const progress = { bytes: 0 };
    const pending = readBody(html(late.body), null, request(), controller.signal, null, progress);
    await new Promise((r) => setTimeout(r, 10));
    expect(progress.bytes).toBe(3);
    controller.abort('stop');
    await expect(pending).rejects.toBe('stop');
    expect(late.state.cancelled).toBe(true);
  });

  it('passes a failed read on', async () => {
    const failure = new Error('connection reset');
    const { body } = source([encode('abc')], { failWith: failure });
    await expect(readBody(html(body), null, request(), live(), null, { bytes: 0 })).rejects.toBe(
      failure,
    );
  });
});

describe('readBody: small HTML, read whole', () => {
  const page = '<title>Small</title><a href=1><a href=2>';

  it('scans UTF-8 without a rewriter and tells when the body is in', async () => {
    const stub = stubExtractor();
    let bodyRead = 0;
    const progress = { bytes: 0 };
    const out = await readBody(
      html(page),
      page.length,
      request({ onBodyRead: () => bodyRead++ }),
      live(),
      stub.make,
      progress,
    );
    expect(out).toEqual({ title: 'Small', links: 2, data: null });
    expect(stub.made()).toBe(0);
    expect(bodyRead).toBe(1);
    expect(progress.bytes).toBe(page.length);
  });

  it(`takes a declared length up to ${BUFFER_LIMIT} as small`, async () => {
    for (const [declared, small] of [
      [0, true],
      [BUFFER_LIMIT, true],
      [BUFFER_LIMIT + 1, false],
    ] as const) {
      let bodyRead = 0;
      const stub = stubExtractor();
      const req = request({ onBodyRead: () => bodyRead++ });
      const out = await readBody(html(page), declared, req, live(), stub.make, { bytes: 0 });
      expect({ declared, bodyRead }).toEqual({ declared, bodyRead: small ? 1 : 0 });
      expect(out).toEqual(small ? { title: 'Small', links: 2, data: null } : stub.result);
    }
  });

  it('stops past maxBytes with too_large', async () => {
    const progress = { bytes: 0 };
    const req = request({ maxBytes: page.length - 1 });
    const read = readBody(html(page), 10, req, live(), stubExtractor().make, progress);
    await expect(read).rejects.toMatchObject({
      kind: 'too_large',
      message: `body exceeds maxBytes (${page.length - 1})`,
    });
    expect(progress.bytes).toBe(page.length);
    const exact = request({ maxBytes: page.length });
    const out = await readBody(html(page), 10, exact, live(), stubExtractor().make, { bytes: 0 });
    expect(out?.title).toBe('Small');
  });

  it('scans any UTF-8 label, and drops a byte-order mark', async () => {
    for (const type of ['text/html; charset=utf8', 'text/html; charset=unicode-1-1-utf-8']) {
      const stub = stubExtractor();
      const out = await readBody(html(page, type), 10, request(), live(), stub.make, { bytes: 0 });
      expect(out?.title).toBe('Small');
      expect(stub.made()).toBe(0);
    }
    const bom = Uint8Array.from([0xef, 0xbb, 0xbf, ...encode('<title>caf\u00e9</title>')]);
    const stub = stubExtractor();
    const out = await readBody(
      html(bom, 'text/html; charset=iso-8859-1'),
      bom.length,
      request(),
      live(),
      stub.make,
      { bytes: 0 },
    );
    expect(out).toEqual({ title: 'caf\u00e9', links: 0, data: null });
    expect(stub.made()).toBe(0);
  });

  it('hands other charsets, selectors and pages scanHtml leaves to the rewriter', async () => {
    const cases: [Response, PageRequest, string][] = [
      [html(latin1(page), 'text/html; charset=ISO-8859-1'), request(), 'iso-8859-1'],
      [html(latin1(`<meta charset=koi8-r>${page}`)), request(), 'koi8-r'],
      [html(page), request({ selectors: { h: 'h1' } }), 'utf-8'],
      [html(`<svg></svg>${page}`), request(), 'utf-8'],
    ];
    for (const [res, req, charset] of cases) {
      const stub = stubExtractor();
      const progress = { bytes: 0 };
      expect(await readBody(res, 100, req, live(), stub.make, progress)).toBe(stub.result);
      expect(stub.made()).toBe(1);
      expect(stub.seen).toHaveLength(1);
      expect(stub.seen[0]?.contentType).toBe(`text/html; charset=${charset}`);
      expect(decode(stub.seen[0]?.chunks ?? [])).toContain(page);
      expect(progress.bytes).toBe(decode(stub.seen[0]?.chunks ?? []).length);
    }
  });

  it('reports a charset the rewriter cannot parse as invalid_content', async () => {
    const cases: [unknown, string][] = [
      [new Error('Parser error: Unsupported encoding'), 'Unsupported encoding'],
      [new Error('not a Parser error: x'), 'not a Parser error: x'],
      [new TypeError(''), 'TypeError'],
      ['thrown text', 'thrown text'],
    ];
    for (const [thrown, why] of cases) {
      const res = html(latin1(page), 'text/html; charset=x-bogus');
      const read = readBody(res, 50, request(), live(), stubExtractor(thrown).make, { bytes: 0 });
      await expect(read).rejects.toMatchObject({
        kind: 'invalid_content',
        message: `cannot parse charset "x-bogus": ${why}`,
      });
    }
  });
});

describe('readBody: larger HTML with the charset in the header', () => {
  const type = 'text/html; charset=iso-8859-1';

  it('streams the body through the rewriter as it is and counts it', async () => {
    for (const maxBytes of [1_000, 5_000_000]) {
      const { body, state } = source([encode('<p>one'), encode('two</p>')]);
      const stub = stubExtractor();
      const progress = { bytes: 0 };
      const req = request({ maxBytes });
      const declared = BUFFER_LIMIT + 1;
      expect(await readBody(html(body, type), declared, req, live(), stub.make, progress)).toBe(
        stub.result,
      );
      expect(stub.seen.map((s) => [s.contentType, decode(s.chunks)])).toEqual([
        [type, '<p>onetwo</p>'],
      ]);
      expect(progress.bytes).toBe(13);
      expect(state.cancelled).toBe(false);
    }
  });

  it('counts what it read while looking for a byte-order mark when the rewriter gives no body', async () => {
    const { body } = source([encode('abc'), encode('def')]);
    const empty = {
      rewriter: { transform: () => new Response(null) },
      result: () => ({ title: null, links: 0, data: null }),
    } as unknown as Extractor;
    const progress = { bytes: 0 };
    const req = request();
    const out = await readBody(
      html(body, type),
      BUFFER_LIMIT + 1,
      req,
      live(),
      () => empty,
      progress,
    );
    expect(out).toEqual({ title: null, links: 0, data: null });
    expect(progress.bytes).toBe(3);
  });

  it('rejects with the abort reason while the body streams', async () => {
    const { body, state } = source([encode('<p>')], { hang: true });
    const controller = new AbortController();
    const stub = stubExtractor();
    const req = request();
    const pending = readBody(
      html(body, type),
      BUFFER_LIMIT + 1,
      req,
      controller.signal,
      stub.make,
      {
        bytes: 0,
      },
    );
    await new Promise((r) => setTimeout(r, 10));
    controller.abort('stop');
    await expect(pending).rejects.toBe('stop');
    await new Promise((r) => setTimeout(r, 0));
    expect(state.cancelled).toBe(true);
  });

  it('cancels the body when the rewriter refuses the charset', async () => {
    const { body, state } = source([encode('<p>')]);
    const make = stubExtractor(new Error('Parser error: nope')).make;
    const read = readBody(html(body, type), BUFFER_LIMIT + 1, request(), live(), make, {
      bytes: 0,
    });
    await expect(read).rejects.toMatchObject({
      kind: 'invalid_content',
      message: 'cannot parse charset "iso-8859-1": nope',
    });
    expect(state.cancelled).toBe(true);
  });
});

describe('readBody: HTML of unknown length, charset sniffed', () => {
  it('finds a <meta charset> in the first bytes, also across chunks', async () => {
    for (const chunks of [
      ['<meta charset=koi8-r>', '<p>rest</p>'],
      ['<meta char', 'set=koi8-r>', '<p>rest</p>'],
    ]) {
      const { body, state } = source(chunks.map(encode));
      const stub = stubExtractor();
      const progress = { bytes: 0 };
      expect(await readBody(html(body), null, request(), live(), stub.make, progress)).toBe(
        stub.result,
      );
      expect(stub.seen).toHaveLength(1);
      expect(stub.seen[0]?.contentType).toBe('text/html; charset=koi8-r');
      expect(decode(stub.seen[0]?.chunks ?? [])).toBe(chunks.join(''));
      expect(progress.bytes).toBe(chunks.join('').length);
      expect(state.cancelled).toBe(false);
    }
  });

  it('stops looking after 1024 bytes', async () => {
    const chunks = [' '.repeat(1024), '<meta charset=koi8-r>'];
    const { body } = source(chunks.map(encode));
    const stub = stubExtractor();
    const progress = { bytes: 0 };
    await readBody(html(body), null, request(), live(), stub.make, progress);
    expect(stub.seen[0]?.contentType).toBe('text/html; charset=utf-8');
    expect(decode(stub.seen[0]?.chunks ?? [])).toBe(chunks.join(''));
    expect(progress.bytes).toBe(1024 + 21);
  });

  it('looks at the first bytes for a byte-order mark when the header names a charset', async () => {
    const bom = Uint8Array.from([0xef, 0xbb, 0xbf, ...encode('<p>')]);
    const { body } = source([bom, encode('<meta charset=koi8-r>')]);
    const stub = stubExtractor();
    await readBody(html(body, 'text/html; charset=gbk'), null, request(), live(), stub.make, {
      bytes: 0,
    });
    expect(stub.seen[0]?.contentType).toBe('text/html; charset=utf-8');

    const plain = source([encode('<p>'), encode('<meta charset=koi8-r>')]);
    const other = stubExtractor();
    await readBody(
      html(plain.body, 'text/html; charset=gbk'),
      null,
      request(),
      live(),
      other.make,
      {
        bytes: 0,
      },
    );
    expect(other.seen[0]?.contentType).toBe('text/html; charset=gbk');
    expect(decode(other.seen[0]?.chunks ?? [])).toBe('<p><meta charset=koi8-r>');
  });

  it('sniffs a declared length when the header names no charset', async () => {
    const { body } = source([encode('<meta charset=euc-kr>')]);
    const stub = stubExtractor();
    await readBody(html(body), BUFFER_LIMIT + 1, request(), live(), stub.make, { bytes: 0 });
    expect(stub.seen[0]?.contentType).toBe('text/html; charset=euc-kr');
  });

  it('handles an empty body', async () => {
    const { body } = source([]);
    const stub = stubExtractor();
    const progress = { bytes: 0 };
    expect(await readBody(html(body), null, request(), live(), stub.make, progress)).toBe(
      stub.result,
    );
    expect(stub.seen[0]?.contentType).toBe('text/html; charset=utf-8');
    expect(stub.seen[0]?.chunks).toEqual([]);
    expect(progress.bytes).toBe(0);
  });

  it('stops past maxBytes while looking', async () => {
    const { body, state } = source([encode('abcdef'), encode('g')]);
    const progress = { bytes: 0 };
    const read = readBody(
      html(body),
      null,
      request({ maxBytes: 5 }),
      live(),
      stubExtractor().make,
      progress,
    );
    await expect(read).rejects.toMatchObject({
      kind: 'too_large',
      message: 'body exceeds maxBytes (5): read 6 bytes',
    });
    expect(state.cancelled).toBe(true);
  });

  it('stops past maxBytes after looking, having passed on only what fit', async () => {
    const { body, state } = source([encode('abc'), encode('de'), encode('fg'), encode('h')]);
    const stub = stubExtractor();
    const progress = { bytes: 0 };
    const type = 'text/html; charset=gbk';
    const read = readBody(
      html(body, type),
      null,
      request({ maxBytes: 6 }),
      live(),
      stub.make,
      progress,
    );
    await expect(read).rejects.toMatchObject({
      kind: 'too_large',
      message: 'body exceeds maxBytes (6): read 7 bytes',
    });
    expect(decode(stub.seen[0]?.chunks ?? [])).toBe('abcde');
    expect(progress.bytes).toBe(7);
    expect(state.cancelled).toBe(true);
  });

  it('reads a body of exactly maxBytes while looking', async () => {
    const { body } = source([encode('abc')]);
    const stub = stubExtractor();
    const progress = { bytes: 0 };
    const out = await readBody(
      html(body),
      null,
      request({ maxBytes: 3 }),
      live(),
      stub.make,
      progress,
    );
    expect(out).toBe(stub.result);
    expect(progress.bytes).toBe(3);
  });

  it('reads a body of exactly maxBytes', async () => {
    const { body } = source([encode('abc'), encode('def')]);
    const stub = stubExtractor();
    const progress = { bytes: 0 };
    const type = 'text/html; charset=gbk';
    const out = await readBody(
      html(body, type),
      null,
      request({ maxBytes: 6 }),
      live(),
      stub.make,
      progress,
    );
    expect(out).toBe(stub.result);
    expect(decode(stub.seen[0]?.chunks ?? [])).toBe('abcdef');
    expect(progress.bytes).toBe(6);
  });

  it('passes a failed read after looking on', async () => {
    const failure = new Error('connection reset');
    const { body } = source([encode('abc')], { failWith: failure });
    const type = 'text/html; charset=gbk';
    await expect(
      readBody(html(body, type), null, request(), live(), stubExtractor().make, { bytes: 0 }),
    ).rejects.toBe(failure);
  });

  it('rejects with the abort reason when a small body is cut off after looking, not with a partial page', async () => {
    // As a fetched body does, this one errors its pending read when the job's signal aborts.
    // With maxBytes under the buffer limit the rewriter's output is read whole, and the
    // replayed body ends quietly on the abort: the page must still not come out as read.
    const controller = new AbortController();
    let reads = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(stream) {
          if (reads++ === 0) return stream.enqueue(encode('<title>partial'));
          return new Promise<void>((resolve) => {
            controller.signal.addEventListener('abort', () => {
              stream.error(controller.signal.reason);
              resolve();
            });
          });
        },
      },
      { highWaterMark: 0 },
    );
    const read = readBody(
      html(body, 'text/html; charset=gbk'),
      null,
      request({ maxBytes: 100_000 }),
      controller.signal,
      stubExtractor().make,
      { bytes: 0 },
    );
    await new Promise((r) => setTimeout(r, 10));
    controller.abort('timed out');
    await expect(read).rejects.toBe('timed out');
  });

  it('rejects with the abort reason, while looking or after', async () => {
    const early = source([encode('abc')], { hang: true });
    const first = new AbortController();
    const looking = readBody(
      html(early.body),
      null,
      request(),
      first.signal,
      stubExtractor().make,
      {
        bytes: 0,
      },
    );
    await new Promise((r) => setTimeout(r, 10));
    first.abort('stop looking');
    await expect(looking).rejects.toBe('stop looking');
    expect(early.state.cancelled).toBe(true);

    const late = source([encode('abcdef')], { hang: true });
    const second = new AbortController();
    const type = 'text/html; charset=gbk';
    const streaming = readBody(
      html(late.body, type),
      null,
      request(),
      second.signal,
      stubExtractor().make,
      {
        bytes: 0,
      },
    );
    await new Promise((r) => setTimeout(r, 10));
    second.abort('stop streaming');
    await expect(streaming).rejects.toBe('stop streaming');
    await new Promise((r) => setTimeout(r, 0));
    expect(late.state.cancelled).toBe(true);
  });
});

describe('readBody: UTF-16, decoded before the rewriter', () => {
  const text = '<title>\u00e9 \u{1F600}</title>';
  /** `text` in UTF-16LE after a byte-order mark. */
  const utf16 = Uint8Array.from([
    0xff,
    0xfe,
    ...Array.from({ length: text.length }, (_, i) => text.charCodeAt(i)).flatMap((u) => [
      u & 0xff,
      u >> 8,
    ]),
  ]);
  const utf8 = (chunks: Uint8Array[]): string =>
    new TextDecoder().decode(Uint8Array.from(chunks.flatMap((c) => [...c])));

  it('hands the rewriter UTF-8 without the mark, whole or streamed in odd pieces', async () => {
    const pieces = Array.from({ length: Math.ceil(utf16.length / 3) }, (_, i) =>
      utf16.slice(i * 3, i * 3 + 3),
    );
    for (const [declared, body] of [
      [utf16.length, utf16],
      [null, source(pieces).body],
      [BUFFER_LIMIT + 1, source(pieces).body],
    ] as const) {
      const stub = stubExtractor();
      const progress = { bytes: 0 };
      const req = request({ selectors: { t: 'title' } });
      const res = html(body, 'text/html; charset=windows-1252');
      expect(await readBody(res, declared, req, live(), stub.make, progress)).toBe(stub.result);
      expect({ declared, seen: stub.seen.map((s) => [s.contentType, utf8(s.chunks)]) }).toEqual({
        declared,
        seen: [['text/html; charset=utf-8', text]],
      });
      expect(progress.bytes).toBe(utf16.length);
    }
  });

  it('scans a small UTF-16 page without a rewriter', async () => {
    const stub = stubExtractor();
    const out = await readBody(html(utf16), utf16.length, request(), live(), stub.make, {
      bytes: 0,
    });
    expect(out).toEqual({ title: '\u00e9 \u{1F600}', links: 0, data: null });
    expect(stub.made()).toBe(0);
  });
});
