// Change detection at the fetch layer, against the real local origin: the body's hash on every
// read path, the validators of the final response, conditional requests and their 304, and the
// body sink. Each test has its own origin tag, so its page versions and counters are its own.
import { describe, expect, inject, it } from 'vitest';
import type { BodySink } from '../../src/fetch/body-sink';
import { fetchPage, type PageOutcome, type PageRequest } from '../../src/fetch/fetch-page';
import { toHex } from '../../src/lib/hex';
import { FIXTURES, versionedBody } from '../origin/fixtures';

const base = `http://127.0.0.1:${inject('originPort')}`;

/** Origin URL for `path` under `tag`. */
function at(path: string, tag: string): string {
  return `${base}${path}${path.includes('?') ? '&' : '?'}tag=${tag}`;
}

function get(url: string, extra: Partial<PageRequest> = {}): Promise<PageOutcome> {
  return fetchPage({ url, timeoutMs: 5_000, maxBytes: 5_000_000, selectors: {}, ...extra });
}

type Ok = Extract<PageOutcome, { ok: true }>;

function expectOk(out: PageOutcome): Ok {
  if (!out.ok) throw new Error(`expected ok, got ${out.kind}: ${out.message}`);
  return out;
}

/** `sha256:` and the hex SHA-256 of `bytes`, computed here, apart from the code under test. */
async function sha256(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return `sha256:${toHex(await crypto.subtle.digest('SHA-256', data))}`;
}

/** The bytes of a fixture as the origin sends them (its body is a latin1 byte string). */
const fixtureBytes = (name: string): Uint8Array =>
  Uint8Array.from(FIXTURES[name]?.body ?? '', (c) => c.charCodeAt(0));

/** Sets the version of the tag's `/versioned/NAME` page. */
async function setVersion(tag: string, name: string, v: number): Promise<void> {
  const res = await fetch(`${base}/__version?tag=${tag}&name=${name}&v=${v}`);
  expect(await res.json()).toEqual({ name, version: v });
}

interface Conditional {
  ifNoneMatch: number;
  ifModifiedSince: number;
  notModified: number;
  ok: number;
  bodyBytes: number;
}

/** What the origin counted for the tag's `/versioned/NAME`. */
async function counted(tag: string, name: string): Promise<Conditional | undefined> {
  const res = await fetch(`${base}/__stats?tag=${tag}`);
  const stats = await res.json<{ conditional: Record<string, Conditional> }>();
  return stats.conditional[`/versioned/${name}`];
}

/** Last-Modified of version N of a versioned page: day N of January 2026. */
const modifiedAt = (version: number): string => new Date(Date.UTC(2026, 0, version)).toUTCString();

/** A sink that records what it is given; `fail` makes a write or the close reject. */
function recordingSink(fail: { write?: number; close?: boolean } = {}) {
  const log = {
    chunks: [] as Uint8Array[],
    closed: null as string | null,
    aborted: [] as unknown[],
    opened: [] as (string | null)[],
  };
  const sink: BodySink = {
    write: async (chunk) => {
      if (log.chunks.length === fail.write) throw new Error('bucket unavailable');
      log.chunks.push(chunk.slice());
    },
    close: async (hex) => {
      log.closed = hex;
      if (fail.close) throw new Error('bucket unavailable');
    },
    abort: async (reason) => {
      log.aborted.push(reason);
    },
  };
  const openSink = (contentType: string | null): BodySink => {
    log.opened.push(contentType);
    return sink;
  };
  return { openSink, log };
}

function joined(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

describe('contentHash', () => {
  it('is the SHA-256 of a small HTML page, read whole', async () => {
    const out = expectOk(await get(at('/versioned/small', 'hash-small')));
    expect(out.contentHash).toBe(await sha256(versionedBody('small', 1)));
    expect(out.bytes).toBe(new TextEncoder().encode(versionedBody('small', 1)).length);
    expect(out.title).toBe('small v1');
    expect(out.notModified).toBe(false);
  });

  it('is the SHA-256 of a large HTML page, streamed', async () => {
    const out = expectOk(await get(at('/versioned/large?size=300000', 'hash-large')));
    const body = versionedBody('large', 1, 300_000);
    expect(out.bytes).toBe(300_000);
    expect(out.title).toBe('large v1');
    expect(out.contentHash).toBe(await sha256(body));
  });

  it('is the SHA-256 of a body that is not parsed', async () => {
    const out = expectOk(await get(at('/versioned/plain?type=text', 'hash-text')));
    expect(out.contentType).toBe('text/plain; charset=utf-8');
    expect(out.contentHash).toBe(await sha256(versionedBody('plain', 1, 0, true)));
    const big = expectOk(await get(at('/versioned/plain?type=text&size=400000', 'hash-text')));
    expect(big.contentHash).toBe(await sha256(versionedBody('plain', 1, 400_000, true)));
  });

  it('is over the bytes as sent, whatever their charset or byte-order mark, read whole or streamed', async () => {
    for (const name of ['latin1', 'meta-charset', 'utf16le-bom', 'utf8-bom-latin1-header']) {
      const want = await sha256(fixtureBytes(name));
      for (const query of ['', '?chunk=7']) {
        const out = expectOk(await get(at(`/fixture/${name}${query}`, 'hash-charset')));
        expect({ name, query, hash: out.contentHash }).toEqual({ name, query, hash: want });
      }
    }
  });

  it('is of the decoded bytes of a gzip-encoded response', async () => {
    const tag = 'hash-gzip';
    const small = expectOk(await get(at('/versioned/zipped?gzip=1', tag)));
    expect(small.contentHash).toBe(await sha256(versionedBody('zipped', 1)));
    const large = expectOk(await get(at('/versioned/zipped?gzip=1&size=300000', tag)));
    expect(large.contentHash).toBe(await sha256(versionedBody('zipped', 1, 300_000)));
    expect(large.bytes).toBe(300_000);
    // The origin did send them compressed.
    const sent = await counted(tag, 'zipped');
    expect(sent?.ok).toBe(2);
    expect(sent?.bodyBytes).toBeLessThan(20_000);
  });

  it('is absent from a failure: a body too large, a read that timed out', async () => {
    const tooLarge = await get(at('/bytes?n=400000&chunked=1', 'hash-fail'), { maxBytes: 300_000 });
    expect(tooLarge).toMatchObject({ ok: false, kind: 'too_large' });
    expect(tooLarge).not.toHaveProperty('contentHash');
    const slow = await get(at('/slow-body?chunks=20&interval=100', 'hash-fail'), {
      timeoutMs: 300,
    });
    expect(slow).toMatchObject({ ok: false, kind: 'timeout' });
    expect(slow).not.toHaveProperty('contentHash');
  });
});

describe('validators and conditional requests', () => {
  it('captures ETag and Last-Modified as sent, or null', async () => {
    const tag = 'validators-captured';
    for (const [validators, etag, lastModified] of [
      ['both', '"page-v1"', modifiedAt(1)],
      ['etag', '"page-v1"', null],
      ['lm', null, modifiedAt(1)],
      ['none', null, null],
    ] as const) {
      const out = expectOk(await get(at(`/versioned/page?validators=${validators}`, tag)));
      expect({ validators, etag: out.etag, lastModified: out.lastModified }).toEqual({
        validators,
        etag,
        lastModified,
      });
    }
    expect(modifiedAt(1)).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
  });

  it('takes a 304 to a matching If-None-Match as a success with nothing read', async () => {
    const tag = 'validators-etag-304';
    const url = at('/versioned/same', tag);
    const first = expectOk(await get(url));
    expect(first.etag).toBe('"same-v1"');
    const out = expectOk(
      await get(url, {
        ifNoneMatch: first.etag ?? '',
        selectors: { h: 'h1' },
        links: true,
        meta: true,
      }),
    );
    const { durationMs: _d, fetchedAt: _f, ...rest } = out;
    expect(rest).toEqual({
      ok: true,
      finalUrl: url,
      status: 304,
      contentType: null,
      title: null,
      links: 0,
      bytes: 0,
      data: { h: null },
      linkUrls: [],
      meta: { description: null, canonical: null, ogTitle: null, lang: null },
      etag: '"same-v1"',
      lastModified: modifiedAt(1),
      contentHash: null,
      notModified: true,
      rendered: false,
      renderMs: null,
    });
    expect(await counted(tag, 'same')).toEqual({
      ifNoneMatch: 1,
      ifModifiedSince: 0,
      notModified: 1,
      ok: 1,
      bodyBytes: new TextEncoder().encode(versionedBody('same', 1)).length,
    });
  });

  it('gets the new page, its hash and its validators once the ETag no longer matches', async () => {
    const tag = 'validators-etag-changed';
    const url = at('/versioned/moving', tag);
    const first = expectOk(await get(url));
    await setVersion(tag, 'moving', 2);
    const out = expectOk(
      await get(url, { ifNoneMatch: first.etag ?? '', ifModifiedSince: first.lastModified ?? '' }),
    );
    expect(out).toMatchObject({
      status: 200,
      notModified: false,
      title: 'moving v2',
      etag: '"moving-v2"',
      lastModified: modifiedAt(2),
      contentHash: await sha256(versionedBody('moving', 2)),
    });
    expect(out.contentHash).not.toBe(first.contentHash);
    expect(await counted(tag, 'moving')).toMatchObject({
      ifNoneMatch: 1,
      ifModifiedSince: 1,
      notModified: 0,
      ok: 2,
    });
  });

  it('sends If-Modified-Since: 304 while not modified since, the page once it is', async () => {
    const tag = 'validators-ims';
    const url = at('/versioned/dated?validators=lm', tag);
    const first = expectOk(await get(url));
    expect(first.etag).toBeNull();
    const since = first.lastModified ?? '';
    expect(expectOk(await get(url, { ifModifiedSince: since }))).toMatchObject({
      status: 304,
      notModified: true,
      lastModified: since,
      etag: null,
      contentHash: null,
    });
    await setVersion(tag, 'dated', 3);
    expect(expectOk(await get(url, { ifModifiedSince: since }))).toMatchObject({
      status: 200,
      notModified: false,
      lastModified: modifiedAt(3),
      contentHash: await sha256(versionedBody('dated', 3)),
    });
    expect(await counted(tag, 'dated')).toMatchObject({
      ifNoneMatch: 0,
      ifModifiedSince: 2,
      notModified: 1,
      ok: 2,
    });
  });

  it('gets the same page, and the same hash, from a server without validators', async () => {
    const tag = 'validators-none';
    const url = at('/versioned/plain?validators=none', tag);
    const first = expectOk(await get(url));
    const again = expectOk(
      await get(url, { ifNoneMatch: '"plain-v1"', ifModifiedSince: modifiedAt(1) }),
    );
    expect(again).toMatchObject({ status: 200, notModified: false, etag: null });
    expect(again.contentHash).toBe(first.contentHash);
    expect(await counted(tag, 'plain')).toMatchObject({ notModified: 0, ok: 2 });
  });

  it('sends the validators on every hop of a redirect, also to another origin', async () => {
    const tag = 'validators-redirect';
    const echo = '/echo-headers?h=if-none-match,if-modified-since';
    for (const target of [echo, `http://127.0.0.2:${inject('originPort')}${echo}`]) {
      const url = at(`/redirect?to=${encodeURIComponent(target)}`, tag);
      const out = expectOk(await get(url, { ifNoneMatch: '"x"', ifModifiedSince: modifiedAt(1) }));
      expect(out.title).toBe(`if-modified-since=${modifiedAt(1)};if-none-match="x"`);
    }
    const versioned = at('/versioned/hop', tag);
    const hop = at(`/redirect?to=${encodeURIComponent(versioned)}`, tag);
    expect(expectOk(await get(hop, { ifNoneMatch: '"hop-v1"' }))).toMatchObject({
      status: 304,
      notModified: true,
      finalUrl: versioned,
    });
  });

  it('sends no validators unless given, and keeps a 304 to such a request a failure', async () => {
    const plain = expectOk(
      await get(at('/echo-headers?h=if-none-match,if-modified-since', 'validators-echo')),
    );
    expect(plain.title).toBe('if-modified-since=;if-none-match=');
    const out = await get(at('/status/304', 'validators-unconditional'));
    expect(out).toMatchObject({ ok: false, kind: 'http_status', status: 304, message: 'HTTP 304' });
  });
});

describe('openSink', () => {
  it('gets a small page whole and is closed with its hash', async () => {
    const { openSink, log } = recordingSink();
    const out = expectOk(await get(at('/versioned/stored', 'sink-small'), { openSink }));
    expect(log.opened).toEqual(['text/html; charset=utf-8']);
    expect(joined(log.chunks)).toEqual(new TextEncoder().encode(versionedBody('stored', 1)));
    expect(`sha256:${log.closed}`).toBe(out.contentHash);
    expect(log.aborted).toEqual([]);
  });

  it('gets a streamed page chunk by chunk, in order, decoded from gzip', async () => {
    for (const query of ['?size=300000', '?size=300000&gzip=1']) {
      const { openSink, log } = recordingSink();
      const out = expectOk(
        await get(at(`/versioned/streamed${query}`, 'sink-streamed'), { openSink }),
      );
      const body = new TextEncoder().encode(versionedBody('streamed', 1, 300_000));
      expect(log.chunks.length).toBeGreaterThan(1);
      expect(joined(log.chunks)).toEqual(body);
      expect(log.closed).not.toBeNull();
      expect(`sha256:${log.closed}`).toBe(out.contentHash);
    }
    const { openSink, log } = recordingSink();
    const out = expectOk(
      await get(at('/fixture/utf16le-bom?chunk=7', 'sink-streamed'), { openSink }),
    );
    expect(joined(log.chunks)).toEqual(fixtureBytes('utf16le-bom'));
    expect(`sha256:${log.closed}`).toBe(out.contentHash);
  });

  it('is not opened for a body that is not HTML, a 304, an error status, a declared too-large body', async () => {
    const tag = 'sink-not-opened';
    const { openSink, log } = recordingSink();
    expectOk(await get(at('/versioned/t?type=text', tag), { openSink }));
    expectOk(await get(at('/versioned/n', tag), { openSink, ifNoneMatch: '"n-v1"' }));
    await get(at('/status/404', tag), { openSink });
    await get(at('/bytes?n=5000', tag), { openSink, maxBytes: 1_000 });
    expect(log.opened).toEqual([]);
  });

  it('is aborted, not closed, when the body is cut off: too large, timed out', async () => {
    const tooLarge = recordingSink();
    const big = await get(at('/bytes?n=400000&chunked=1', 'sink-abort'), {
      openSink: tooLarge.openSink,
      maxBytes: 300_000,
    });
    expect(big).toMatchObject({ ok: false, kind: 'too_large' });
    expect(tooLarge.log.closed).toBeNull();
    expect(tooLarge.log.aborted).toHaveLength(1);
    expect(tooLarge.log.aborted[0]).toMatchObject({ kind: 'too_large' });

    const slow = recordingSink();
    const out = await get(at('/slow-body?chunks=20&interval=100', 'sink-abort'), {
      openSink: slow.openSink,
      timeoutMs: 300,
    });
    expect(out).toMatchObject({ ok: false, kind: 'timeout' });
    expect(slow.log.chunks.length).toBeGreaterThan(0);
    expect(slow.log.closed).toBeNull();
    expect(slow.log.aborted).toHaveLength(1);
  });

  it('makes a write or close that fails a network failure, and aborts only after a failed write', async () => {
    const cases = [
      ['/versioned/w', { write: 0 }],
      ['/versioned/w?size=300000', { write: 2 }],
      ['/versioned/c', { close: true }],
      ['/versioned/c?size=300000', { close: true }],
    ] as const;
    for (const [path, fail] of cases) {
      const { openSink, log } = recordingSink(fail);
      const out = await get(at(path, 'sink-fails'), { openSink });
      expect({ path, out }).toMatchObject({
        path,
        out: {
          ok: false,
          kind: 'network',
          message: 'could not store the body: bucket unavailable',
        },
      });
      expect(log.aborted).toHaveLength('write' in fail ? 1 : 0);
    }
  });

  it('stores nothing when openSink gives no sink, and names a throwing openSink', async () => {
    const out = expectOk(await get(at('/versioned/none', 'sink-null'), { openSink: () => null }));
    expect(out.contentHash).toBe(await sha256(versionedBody('none', 1)));
    const thrown = await get(at('/versioned/none', 'sink-null'), {
      openSink: () => {
        throw new Error('no bucket bound');
      },
    });
    expect(thrown).toMatchObject({
      ok: false,
      kind: 'network',
      message: 'could not store the body: no bucket bound',
    });
  });
});
