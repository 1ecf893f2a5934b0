/** How many body bytes are examined for a `<meta charset>` (the HTML prescan limit). */
export const SNIFF_BYTES = 1024;

/** The charset parameter of a Content-Type value, lower-cased, or null. */
export function charsetFromContentType(contentType: string | null): string | null {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(contentType ?? '');
  const label = (m?.[1] ?? m?.[2] ?? '').trim().toLowerCase();
  return label === '' ? null : label;
}

/** The charset a byte-order mark at the start of `head` declares, or null. */
function charsetFromBom(head: Uint8Array): string | null {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  return null;
}

/** The charset a `<meta charset>` or `<meta http-equiv>` in the first 1024 bytes declares. */
function charsetFromMeta(head: Uint8Array): string | null {
  // Bytes as latin1 chars: markup is ASCII in every encoding HTMLRewriter can parse.
  const n = Math.min(head.length, SNIFF_BYTES);
  let text = '';
  for (let i = 0; i < n; i++) text += String.fromCharCode(head[i] ?? 0);
  text = text.replace(/<!--[\s\S]*?(?:-->|$)/g, '');
  // One pattern for <meta charset=x> and <meta http-equiv=... content="...; charset=x">.
  const label = /<meta\s[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(text)?.[1]?.toLowerCase();
  if (!label) return null;
  // The HTML prescan rules: a <meta> cannot switch to UTF-16; x-user-defined means 1252.
  if (label.startsWith('utf-16')) return 'utf-8';
  if (label === 'x-user-defined') return 'windows-1252';
  return label;
}

/** An HTML body's charset: by byte-order mark, else the header's, else by `<meta>`, else UTF-8. */
export function bodyCharset(head: Uint8Array, headerCharset: string | null): string {
  return charsetFromBom(head) ?? headerCharset ?? charsetFromMeta(head) ?? 'utf-8';
}

/** Encodings that are not ASCII-compatible, which HTMLRewriter cannot parse but TextDecoder can. */
const DECODED_FIRST: ReadonlySet<string> = new Set(['utf-16le', 'utf-16be', 'iso-2022-jp']);

/**
 * A decoder for a body in `charset` (a lower-cased label) when it must be decoded before it
 * is parsed (UTF-16, ISO-2022-JP: the parser is then given UTF-8), else null.
 */
export function decoderFirst(charset: string): TextDecoder | null {
  if (isUtf8(charset)) return null;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    return null;
  }
  return DECODED_FIRST.has(decoder.encoding) ? decoder : null;
}

/** Whether `charset` (a lower-cased label) names UTF-8. */
export function isUtf8(charset: string): boolean {
  return charset === 'utf-8' || charset === 'utf8' || charset === 'unicode-1-1-utf-8';
}
