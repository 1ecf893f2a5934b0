// The fast path for small UTF-8 pages with the default extraction (title and link count): a
// plain scan of the HTML text instead of HTMLRewriter, whose every callback is a round trip.
import { type Extracted, TextSink } from './extract';

/**
 * Elements whose content the tokenizer reads as text up to their end tag: RCDATA (`title`,
 * `textarea`) and RAWTEXT (`style`, `xmp`, `iframe`, `noembed`, `noframes`); `script` too,
 * when its content holds no `<!--` (which starts the escaped states: see scanHtml).
 */
const TEXT_ELEMENTS: ReadonlyMap<string, RegExp> = new Map(
  ['title', 'textarea', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'script'].map((name) => [
    name,
    new RegExp(`</${name}[\\t\\n\\f\\r />]`, 'gi'),
  ]),
);

/**
 * Elements after which scanHtml gives up (returns null) and the caller parses with
 * HTMLRewriter: foreign content (CDATA sections, other text rules), `plaintext`, `noscript`
 * (its parsing depends on the scripting flag) and `select` (whose insertion mode ignores some
 * start tags, e.g. `<style>`).
 */
const BAIL_ELEMENTS: ReadonlySet<string> = new Set([
  'svg',
  'math',
  'plaintext',
  'noscript',
  'select',
]);

/** Tag-level whitespace and `/`, `>`: what ends a tag or attribute name. */
function isTagBreak(c: number): boolean {
  return (
    c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x2f || c === 0x3e
  );
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

function isAsciiAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** The index just past the next `>` at or after `from`, or -1 when the input ends first. */
function afterGt(html: string, from: number): number {
  const end = html.indexOf('>', from);
  return end < 0 ? -1 : end + 1;
}

/** The index just past the comment that starts at `i` (with `<!--`), or -1 when unclosed. */
function afterComment(html: string, i: number): number {
  if (html.startsWith('<!-->', i)) return i + 5;
  if (html.startsWith('<!--->', i)) return i + 6;
  // A comment ends at the first `-->` or `--!>`, else at the end of the input.
  const a = html.indexOf('-->', i + 4);
  const b = html.indexOf('--!>', i + 4);
  if (a < 0 && b < 0) return -1;
  return a >= 0 && (b < 0 || a < b) ? a + 3 : b + 4;
}

/**
 * Where scanning resumes after a `<` at `i` that opens no tag (the character after it is no
 * letter): past a comment, doctype or bogus comment, or just past a `<` that is text. -1 when
 * the input ends first.
 */
function afterNonTag(html: string, i: number): number {
  const c = html.charCodeAt(i + 1);
  if (c === 0x21 /* ! */ && html.startsWith('<!--', i)) return afterComment(html, i);
  // Doctype, bogus comment (also `<![CDATA[` in HTML content and `<?`): up to the next `>`.
  if (c === 0x21 /* ! */ || c === 0x3f /* ? */) return afterGt(html, i + 2);
  if (c !== 0x2f /* / */) return i + 1; // A lone `<` is text.
  if (html.charCodeAt(i + 2) === 0x3e /* > */) return i + 3; // `</>` is dropped.
  return afterGt(html, i + 2); // `</` + non-letter: a bogus comment.
}

/** The end of the attribute name whose second character is at `from` (its first may be `=`). */
function attributeNameEnd(html: string, from: number): number {
  const n = html.length;
  let j = from;
  while (j < n) {
    const c = html.charCodeAt(j);
    if (isTagBreak(c) || c === 0x3d /* = */) break;
    j++;
  }
  return j;
}

/** The index past the optional `= value` of an attribute whose name ends at `from`. */
function afterAttributeValue(html: string, from: number): number {
  const n = html.length;
  let j = from;
  while (j < n && isSpace(html.charCodeAt(j))) j++;
  if (html.charCodeAt(j) !== 0x3d /* = */) return j;
  j++;
  while (j < n && isSpace(html.charCodeAt(j))) j++;
  const q = html.charCodeAt(j);
  if (q === 0x22 || q === 0x27) {
    const close = html.indexOf(q === 0x22 ? '"' : "'", j + 1);
    return close < 0 ? n : close + 1;
  }
  while (j < n && !isSpace(html.charCodeAt(j)) && html.charCodeAt(j) !== 0x3e) j++;
  return j;
}

/** Where the text content that starts at `from` ends: at its end tag, else at the input's end. */
function textContentEnd(html: string, from: number, endPattern: RegExp): number {
  endPattern.lastIndex = from;
  const m = endPattern.exec(html);
  return m === null ? html.length : m.index;
}

/** The default extraction (first title, `a[href]` count) in JS; null: HTMLRewriter must do it. */
export function scanHtml(html: string): Extracted | null {
  // Follows the HTML tokenizer for the common subset: tags and their (quoted) attributes,
  // comments, bogus comments and doctypes, RCDATA/RAWTEXT/script content. A page outside it
  // (see BAIL_ELEMENTS, `<!--` in a script) gives null, and the caller parses it with
  // HTMLRewriter; the tests check both agree. The reason: HTMLRewriter calls JS once per
  // matched element, and those calls cost more than this whole pass over a small page.
  let links = 0;
  let title: TextSink | null = null;
  const n = html.length;
  let i = 0;
  for (;;) {
    i = html.indexOf('<', i);
    if (i < 0 || i + 1 >= n) break;
    const endTag = html.charCodeAt(i + 1) === 0x2f; /* / */
    const nameAt = endTag ? i + 2 : i + 1;
    if (nameAt >= n) break;
    if (!isAsciiAlpha(html.charCodeAt(nameAt))) {
      i = afterNonTag(html, i);
      if (i < 0) break;
      continue;
    }
    // Tag name, then attributes up to the `>` that ends the tag (never one inside quotes).
    let j = nameAt;
    while (j < n && !isTagBreak(html.charCodeAt(j))) j++;
    const name = html.slice(nameAt, j).toLowerCase();
    let href = false;
    let closed = false;
    while (j < n) {
      const d = html.charCodeAt(j);
      if (d === 0x3e) {
        closed = true;
        j++;
        break;
      }
      if (isSpace(d) || d === 0x2f) {
        j++;
        continue;
      }
      const at = j;
      j = attributeNameEnd(html, j + 1);
      if (j - at === 4 && html.slice(at, j).toLowerCase() === 'href') href = true;
      j = afterAttributeValue(html, j);
    }
    if (!closed) break; // A tag cut off by the end of the input is no tag.
    i = j;
    if (endTag) continue;
    if (name === 'a' && href) links++;
    if (BAIL_ELEMENTS.has(name)) return null;
    const endPattern = TEXT_ELEMENTS.get(name);
    if (endPattern === undefined) continue;
    const textEnd = textContentEnd(html, i, endPattern);
    if (name === 'script' && html.slice(i, textEnd).includes('<!--')) return null;
    if (name === 'title' && title === null) {
      title = new TextSink();
      title.append(html.slice(i, textEnd));
    }
    // The end tag itself is scanned as a tag next (its attributes may hold quotes).
    i = textEnd;
  }
  return { title: title === null ? null : title.value(), links, data: null };
}
