// fetchPage called directly in the Workers runtime against the real local origin.
import { describe, expect, inject, it } from 'vitest';
import {
  fetchPage,
  MAX_REDIRECTS,
  type PageOutcome,
  type PageRequest,
} from '../../src/fetch/fetch-page';
import { FIXTURES } from '../origin/fixtures';

const base = `http://127.0.0.1:${inject('originPort')}`;

/** Origin URL for `path`, tagged so this file's counters are its own. */
function at(path: string, tag = 'fetch-page'): string {
  return `${base}${path}${path.includes('?') ? '&' : '?'}tag=${tag}`;
}

function get(url: string, extra: Partial<PageRequest> = {}): Promise<PageOutcome> {
  return fetchPage({ url, timeoutMs: 5_000, maxBytes: 5_000_000, selectors: {}, ...extra });
}

function expectOk(out: PageOutcome): Extract<PageOutcome, { ok: true }> {
  if (!out.ok) throw new Error(`expected ok, got ${out.kind}: ${out.message}`);
  return out;
}

function expectFail(out: PageOutcome): Extract<PageOutcome, { ok: false }> {
  if (out.ok) throw new Error(`expected a failure, got ok ${out.status} ${out.finalUrl}`);
  return out;
}

interface Stats {
  requests: number;
  inFlight: number;
  aborted: number;
}

async function stats(tag: string): Promise<Stats> {
  const res = await fetch(`${base}/__stats?tag=${tag}`);
  return res.json<Stats>();
}

describe('fixtures', () => {
  for (const [name, fixture] of Object.entries(FIXTURES)) {
    it(`extracts title and links from ${name}`, async () => {
      const out = expectOk(await get(at(`/fixture/${name}`)));
      expect(out.title).toBe(fixture.title);
      expect(out.links).toBe(fixture.links);
      expect(out.status).toBe(200);
      expect(out.contentType).toBe(fixture.contentType);
      expect(out.bytes).toBe(fixture.body.length);
      expect(out.data).toBeNull();
    });

    it(`extracts the same from ${name} streamed in 7-byte writes`, async () => {
      const out = expectOk(await get(at(`/fixture/${name}?chunk=7`)));
      expect({ title: out.title, links: out.links, bytes: out.bytes }).toEqual({
        title: fixture.title,
        links: fixture.links,
        bytes: fixture.body.length,
      });
    });
  }

  it('decodes every kind of character reference in the title, once', async () => {
    const out = expectOk(await get(at('/fixture/entities')));
    expect(out.title).toBe('Tom & Jerry\u00a0\u00e9t\u00e9 \u2026 caf\u00e9 \u{1F600} AT& T');
  });

  it('decodes a latin1 title from the Content-Type charset', async () => {
    const out = expectOk(await get(at('/fixture/latin1')));
    expect(out.title).toBe('Café crème');
  });

  it('decodes a windows-1252 title from a <meta charset>', async () => {
    const out = expectOk(await get(at('/fixture/meta-charset')));
    expect(out.title).toBe('Café € naïve');
  });

  it('extracts selector fields: first match, nested text, decoded, collapsed', async () => {
    const out = expectOk(
      await get(at('/fixture/selectors'), {
        selectors: {
          heading: 'h1',
          price: '.product .price',
          empty: '#empty',
          missing: '.nope',
          meta: 'meta',
        },
      }),
    );
    expect(out.data).toEqual({
      heading: 'Main heading',
      price: '€ 12.99 & free\u00a0shipping',
      empty: '',
      missing: null,
      meta: null,
    });
  });
});

describe('onBodyRead', () => {
  it('fires once, before the outcome, when a small HTML body is in', async () => {
    const calls: number[] = [];
    const out = expectOk(
      await get(at('/page?title=Early'), { onBodyRead: () => calls.push(Date.now()) }),
    );
    expect(out.title).toBe('Early');
    expect(calls).toHaveLength(1);
  });

  it('does not fire for a failure before any body', async () => {
    let calls = 0;
    const out = await get(at('/status/404'), { onBodyRead: () => calls++ });
    expect(out).toMatchObject({ ok: false, kind: 'http_status' });
    expect(calls).toBe(0);
  });
});

describe('content types', () => {
  it('reads but does not parse text/plain', async () => {
    const out = expectOk(await get(at('/text'), { selectors: { t: 'title' } }));
    expect(out).toMatchObject({ title: null, links: 0, data: { t: null } });
    expect(out.contentType).toMatch(/^text\/plain/);
    expect(out.bytes).toBeGreaterThan(0);
  });

  it('reads but does not parse application/json', async () => {
    const out = expectOk(await get(at('/json')));
    expect(out).toMatchObject({
      title: null,
      links: 0,
      data: null,
      contentType: 'application/json',
    });
  });

  it('parses a generated page', async () => {
    const out = expectOk(await get(at('/page?title=Hello%20%26%20bye&links=7')));
    expect(out).toMatchObject({ title: 'Hello & bye', links: 7 });
  });
});

describe('failures', () => {
  it('names the host when it cannot be resolved', async () => {
    const out = await get('http://no-such-host.invalid/page');
    expect(out).toMatchObject({ ok: false, kind: 'network', status: null });
    if (!out.ok) expect(out.message).toMatch(/no-such-host\.invalid/);
  });

  it('reports a 404 as http_status', async () => {
    const out = expectFail(await get(at('/status/404')));
    expect(out).toMatchObject({ kind: 'http_status', status: 404, retryAfter: null });
  });

  it('passes Retry-After through', async () => {
    const out = expectFail(await get(at('/status/503?retryAfter=7')));
    expect(out).toMatchObject({ kind: 'http_status', status: 503, retryAfter: '7' });
  });

  it('times out while waiting for headers', async () => {
    const out = expectFail(await get(at('/hang'), { timeoutMs: 300 }));
    expect(out.kind).toBe('timeout');
    expect(out.message).toContain('300 ms');
    expect(out.status).toBeNull();
    expect(out.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('times out when headers arrive but the body is too slow', async () => {
    const out = expectFail(await get(at('/slow-body?chunks=20&interval=100'), { timeoutMs: 500 }));
    expect(out.kind).toBe('timeout');
    expect(out.status).toBe(200);
    expect(out.bytes).toBeGreaterThan(0);
    expect(out.durationMs).toBeLessThan(1_900);
  });

  it('accepts a slow body that finishes in time', async () => {
    const out = expectOk(await get(at('/slow-body?chunks=3&interval=50'), { timeoutMs: 3_000 }));
    expect(out.title).toBe('Slow body');
  });

  it('stops reading at maxBytes: too_large', async () => {
    const maxBytes = 100_000;
    const out = expectFail(await get(at('/bytes?n=5000000'), { maxBytes }));
    expect(out.kind).toBe('too_large');
    // The origin declares Content-Length, so nothing needs to be read at all.
    expect(out.bytes).toBeLessThanOrEqual(maxBytes + 64 * 1024);
  });

  it('stops reading at maxBytes without a Content-Length', async () => {
    const maxBytes = 100_000;
    const out = expectFail(await get(at('/bytes?n=5000000&chunked=1'), { maxBytes }));
    expect(out.kind).toBe('too_large');
    expect(out.bytes).toBeGreaterThan(maxBytes);
    expect(out.bytes).toBeLessThanOrEqual(maxBytes + 64 * 1024);
  });

  it('reads a body right at maxBytes', async () => {
    const out = expectOk(await get(at('/bytes?n=200000'), { maxBytes: 200_000 }));
    expect(out.bytes).toBe(200_000);
    expect(out.title).toBe('Bytes');
  });

  it('reports a refused connection as network', async () => {
    const out = expectFail(await get('http://127.0.0.1:1/'));
    expect(out.kind).toBe('network');
  });
});

describe('redirects', () => {
  it('follows a chain of 3', async () => {
    const out = expectOk(await get(at('/chain/3')));
    expect(out.finalUrl).toMatch(/\/chain\/0\?tag=fetch-page$/);
    expect(out.title).toBe('End of chain');
  });

  it(`follows exactly ${MAX_REDIRECTS} hops`, async () => {
    const out = expectOk(await get(at(`/chain/${MAX_REDIRECTS}`)));
    expect(out.title).toBe('End of chain');
  });

  it('gives up after too many hops: redirect_loop', async () => {
    const out = expectFail(await get(at('/chain/12')));
    expect(out.kind).toBe('redirect_loop');
  });

  it('detects a loop: redirect_loop', async () => {
    const out = expectFail(await get(at('/loop/a')));
    expect(out.kind).toBe('redirect_loop');
    expect(out.message).toContain('/loop/a');
  });

  it('resolves an absolute Location given by /redirect', async () => {
    const to = encodeURIComponent(at('/page?title=Landed'));
    const out = expectOk(await get(at(`/redirect?to=${to}&code=307`)));
    expect(out.title).toBe('Landed');
  });
});

describe('SSRF guard', () => {
  const blockPrivate = (url: URL): boolean => url.pathname.startsWith('/private/');

  it('blocks the first URL', async () => {
    const tag = 'blocked-first';
    const out = expectFail(await get(at('/private/x', tag), { isBlocked: blockPrivate }));
    expect(out.kind).toBe('blocked_target');
    expect((await stats(tag)).requests).toBe(0);
  });

  it('blocks a redirect target', async () => {
    const tag = 'blocked-redirect';
    const to = encodeURIComponent(at('/private/x', tag));
    const out = expectFail(await get(at(`/redirect?to=${to}`, tag), { isBlocked: blockPrivate }));
    expect(out.kind).toBe('blocked_target');
    expect(out.message).toContain('/private/x');
    expect((await stats(tag)).requests).toBe(1);
  });
});

describe('job-level abort', () => {
  it('cancels a fetch in flight and closes the connection', async () => {
    const tag = 'cancel-mid-fetch';
    await fetch(`${base}/__reset?tag=${tag}`, { method: 'POST' });
    const controller = new AbortController();
    const pending = get(at('/hang', tag), { signal: controller.signal, timeoutMs: 10_000 });
    // Abort once the origin has the request.
    for (let i = 0; i < 100 && (await stats(tag)).inFlight === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    controller.abort('job cancelled');
    const out = expectFail(await pending);
    expect(out.kind).toBe('cancelled');
    expect(out.message).toContain('job cancelled');
    expect(out.durationMs).toBeLessThan(5_000);
    let s = await stats(tag);
    for (let i = 0; i < 100 && s.aborted === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      s = await stats(tag);
    }
    expect(s.aborted).toBe(1);
    expect(s.inFlight).toBe(0);
  });

  it('cancels while the body streams', async () => {
    const tag = 'cancel-mid-body';
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const out = expectFail(
      await get(at('/slow-body?chunks=50&interval=50', tag), { signal: controller.signal }),
    );
    expect(out.kind).toBe('cancelled');
    expect(out.status).toBe(200);
    let s = await stats(tag);
    for (let i = 0; i < 100 && s.aborted === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      s = await stats(tag);
    }
    expect(s.aborted).toBe(1);
  });

  it('does not fetch when already aborted', async () => {
    const out = expectFail(await get(at('/page'), { signal: AbortSignal.abort('gone') }));
    expect(out.kind).toBe('cancelled');
  });
});
