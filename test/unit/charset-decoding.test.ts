// Decoding as a browser does, through fetchPage and the real HTMLRewriter, on each of its
// paths: a body read whole (small, length known), streamed (length unknown) and streamed with
// a length known to be large. The order: byte-order mark, Content-Type, <meta>, UTF-8.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchPage, type PageOutcome } from '../../src/fetch/fetch-page';

/** The largest declared length read whole (read-body's BUFFER_LIMIT). */
const BUFFER_LIMIT = 256 * 1024;

const PAGE_URL = 'http://charset.test/dir/page';

type Path = 'small' | 'streamed' | 'large';
const PATHS: readonly Path[] = ['small', 'streamed', 'large'];

/** A latin1 string's characters as bytes, one each. */
const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

/** `text` in UTF-16 (little- or big-endian), as a latin1 string. */
function utf16(text: string, bigEndian: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out += bigEndian
      ? String.fromCharCode(unit >> 8, unit & 0xff)
      : String.fromCharCode(unit & 0xff, unit >> 8);
  }
  return out;
}

/** Serves `body` (a latin1 string of bytes) once with `contentType`, as `path` needs. */
function serve(body: string, contentType: string | null, path: Path): void {
  const raw = bytes(body);
  vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
    const headers: Record<string, string> = {};
    if (contentType !== null) headers['content-type'] = contentType;
    if (path !== 'streamed') headers['content-length'] = `${raw.length}`;
    // 5-byte pieces: byte-order marks, UTF-16 pairs and double-byte characters come apart.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < raw.length; at += 5) controller.enqueue(raw.slice(at, at + 5));
        controller.close();
      },
    });
    return new Response(path === 'streamed' ? stream : raw, { headers });
  });
}

/**
 * A page (a latin1 string of bytes) whose title, description and first link's path are
 * `text`, given as bytes already; `encode` turns the markup around it into bytes.
 */
function page(head: string, text: string, path: Path, encode = (s: string) => s): string {
  // The large path needs more than BUFFER_LIMIT bytes: a comment after the head pads it.
  const pad = path === 'large' ? `<!--${' '.repeat(BUFFER_LIMIT)}-->` : '';
  const html =
    `<!doctype html><html><head>${head}<title>\u0000</title>` +
    `<meta name="description" content="\u0000"></head>${pad}` +
    '<body><a href="/\u0000">x</a></body></html>';
  return html.split('\u0000').map(encode).join(text);
}

async function decoded(
  body: string,
  contentType: string | null,
  path: Path,
): Promise<{ title: string | null; description: string | null; link: string | undefined }> {
  serve(body, contentType, path);
  const out: PageOutcome = await fetchPage({
    url: PAGE_URL,
    timeoutMs: 5_000,
    maxBytes: 5_000_000,
    selectors: {},
    links: true,
    meta: true,
  });
  vi.restoreAllMocks();
  if (!out.ok) throw new Error(`${out.kind}: ${out.message}`);
  return {
    title: out.title,
    description: out.meta?.description ?? null,
    link: out.linkUrls?.[0],
  };
}

/** What a browser shows for `text`, and the link to `/text` as it resolves (path in UTF-8). */
function expected(text: string) {
  return {
    title: text,
    description: text,
    link: new URL(`/${text}`, PAGE_URL).href,
  };
}

// Each legacy encoding: a sample as raw bytes (a latin1 string) and what it decodes to.
const LEGACY: Record<string, [raw: string, text: string]> = {
  'windows-1251': ['\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0', 'Привет, мир'],
  'koi8-r': ['\xf0\xd2\xc9\xd7\xc5\xd4, \xcd\xc9\xd2', 'Привет, мир'],
  shift_jis: [
    '\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x79\x81\x5b\x83\x57\x95\x5c',
    '日本語のページ表',
  ],
  'euc-jp': ['\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5\xda\xa1\xbc\xa5\xb8', '日本語のページ'],
  gbk: ['\xd6\xd0\xce\xc4\xcd\xf8\xd2\xb3', '中文网页'],
  // WHATWG reads ISO-8859-1 as windows-1252: 0x80 is the euro sign.
  'iso-8859-1': ['Caf\xe9 \x80 na\xefve', 'Café € naïve'],
};

/** Where a page declares its charset. */
const DECLARED: Record<string, (charset: string) => [contentType: string, head: string]> = {
  header: (charset) => [`text/html; charset=${charset.toUpperCase()}`, ''],
  'meta charset': (charset) => ['text/html', `<meta charset="${charset}">`],
  'meta http-equiv': (charset) => [
    'text/html',
    `<meta http-equiv="content-type" content="text/html; charset=${charset}">`,
  ],
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('legacy encodings, declared each way, on each path', () => {
  for (const [charset, [raw, text]] of Object.entries(LEGACY)) {
    for (const [how, declare] of Object.entries(DECLARED)) {
      it(`${charset} by ${how}`, async () => {
        const [contentType, head] = declare(charset);
        for (const path of PATHS) {
          const got = await decoded(page(head, raw, path), contentType, path);
          expect({ path, ...got }).toEqual({ path, ...expected(text) });
        }
      });
    }
  }

  it('reads them as UTF-8 without a declaration (replacement characters)', async () => {
    const [raw] = LEGACY['windows-1251'] ?? ['', ''];
    for (const path of PATHS) {
      const got = await decoded(page('', raw, path), 'text/html', path);
      expect(got.title).toBe(`${'\ufffd'.repeat(6)}, ${'\ufffd'.repeat(3)}`);
    }
  });
});

describe('byte-order marks decide first', () => {
  const text = 'Grüße — 日本語 😀';

  for (const [name, bom, bigEndian] of [
    ['UTF-16LE', '\xff\xfe', false],
    ['UTF-16BE', '\xfe\xff', true],
  ] as const) {
    it(`decodes ${name} by its mark, with no charset declared`, async () => {
      const encode = (s: string) => utf16(s, bigEndian);
      for (const path of PATHS) {
        const got = await decoded(bom + page('', encode(text), path, encode), 'text/html', path);
        expect({ path, ...got }).toEqual({ path, ...expected(text) });
      }
    });

    it(`decodes ${name} by its mark over a header and a <meta> that say otherwise`, async () => {
      const encode = (s: string) => utf16(s, bigEndian);
      for (const path of PATHS) {
        const body = page('<meta charset="windows-1251">', encode(text), path, encode);
        const got = await decoded(bom + body, 'text/html; charset=iso-8859-1', path);
        expect({ path, ...got }).toEqual({ path, ...expected(text) });
      }
    });
  }

  it('decodes UTF-8 by its mark over a header saying iso-8859-1', async () => {
    const raw = String.fromCharCode(...new TextEncoder().encode(text));
    for (const path of PATHS) {
      const body = `\xef\xbb\xbf${page('', raw, path)}`;
      const got = await decoded(body, 'text/html; charset=iso-8859-1', path);
      expect({ path, ...got }).toEqual({ path, ...expected(text) });
    }
  });

  it('decodes UTF-16 declared by the header without a mark (utf-16 is little-endian)', async () => {
    for (const [label, bigEndian] of [
      ['utf-16', false],
      ['UTF-16LE', false],
      ['utf-16be', true],
    ] as const) {
      const encode = (s: string) => utf16(s, bigEndian);
      for (const path of PATHS) {
        const body = page('', encode(text), path, encode);
        const got = await decoded(body, `text/html; charset=${label}`, path);
        expect({ label, path, ...got }).toEqual({ label, path, ...expected(text) });
      }
    }
  });

  it('decodes ISO-2022-JP, which the parser cannot read itself', async () => {
    const raw = '\x1b$BF|K\\8l\x1b(B';
    for (const path of PATHS) {
      const got = await decoded(page('', raw, path), 'text/html; charset=iso-2022-jp', path);
      expect({ path, ...got }).toEqual({ path, ...expected('日本語') });
    }
  });
});
