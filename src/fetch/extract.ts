import { decodeHTML, decodeHTMLAttribute } from 'entities';
import type { PageMeta } from '../jobs/types';

/** Longest text kept for one selector field, in UTF-16 code units. */
const MAX_FIELD_CHARS = 2_000;

/**
 * Raw (undecoded, whitespace-collapsed) text kept per field or title. The longest character
 * reference (`&CounterClockwiseContourIntegral;`, 33 chars) decodes to one char, so this is
 * enough for MAX_FIELD_CHARS decoded chars in the worst case while bounding memory.
 */
const MAX_RAW_CHARS = MAX_FIELD_CHARS * 33;

/** URLs kept in `linkUrls` at most: the list stops growing there. */
export const MAX_LINK_URLS = 1_000;

/** Longest URL kept in `linkUrls` (or as `meta.canonical`); longer ones are skipped. */
export const MAX_LINK_URL_CHARS = 2_048;

/**
 * Characters of all `linkUrls` together: with the other fields' caps, a Result stays far
 * below the 2 MB a SQLite value may hold (URLs are ASCII; JSON at most doubles them).
 */
export const MAX_LINK_URLS_CHARS = 256 * 1024;

const HTML_NS = 'http://www.w3.org/1999/xhtml';
const ASCII_WHITESPACE = /[\t\n\f\r ]+/g;

/**
 * What one page yields: the first title, the link count and the selector fields; `linkUrls`
 * and `meta` only when asked for (see ExtractExtras).
 */
export interface Extracted {
  title: string | null;
  links: number;
  data: Record<string, string | null> | null;
  linkUrls?: string[];
  meta?: PageMeta;
}

/** What an extraction gathers beyond title, link count and fields, and the page's URL. */
export interface ExtractExtras {
  /** The page's (final) URL: relative references resolve against it until a `<base href>`. */
  url: string;
  links: boolean;
  meta: boolean;
}

/** `text` trimmed to at most `max` code units, never cutting a surrogate pair. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  const cut = last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
  return text.slice(0, cut).trimEnd();
}

/** An attribute's value as a browser reads it: character references decoded. */
function attribute(el: Element, name: string): string | null {
  const raw = el.getAttribute(name);
  // HTMLRewriter hands over attribute values as written, references still raw.
  return raw?.includes('&') ? decodeHTMLAttribute(raw) : raw;
}

/** An attribute's value as a field: decoded, whitespace collapsed, at most MAX_FIELD_CHARS. */
function attributeText(el: Element, name: string): string | null {
  const raw = el.getAttribute(name);
  if (raw === null) return null;
  const bounded = raw.length > MAX_RAW_CHARS ? raw.slice(0, MAX_RAW_CHARS) : raw;
  const text = decodeHTMLAttribute(bounded).replace(ASCII_WHITESPACE, ' ').trim();
  return clip(text, MAX_FIELD_CHARS);
}

/** Whether the whitespace-separated `list` holds `token`, ASCII case-insensitively. */
function hasToken(list: string | null, token: string): boolean {
  if (list === null) return false;
  return list
    .toLowerCase()
    .split(ASCII_WHITESPACE)
    .some((t) => t === token);
}

/** The href of `url` when it is an http(s) URL of at most MAX_LINK_URL_CHARS, else null. */
function httpHref(url: URL | null): string | null {
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null;
  return url.href.length <= MAX_LINK_URL_CHARS ? url.href : null;
}

/** Text accumulated for one element: collapsed as it arrives, decoded at the end. */
class TextSink {
  #raw = '';
  #full = false;

  append(chunk: string): void {
    if (this.#full || chunk === '') return;
    let piece = chunk.replace(ASCII_WHITESPACE, ' ');
    if (piece.startsWith(' ') && (this.#raw === '' || this.#raw.endsWith(' '))) {
      piece = piece.slice(1);
    }
    this.#raw += piece;
    if (this.#raw.length >= MAX_RAW_CHARS) {
      this.#raw = this.#raw.slice(0, MAX_RAW_CHARS);
      this.#full = true;
    }
  }

  /**
   * Decoded, collapsed and trimmed text, at most `max` code units (pairs kept whole): a title
   * or a field is stored in every Result, so a hostile page cannot make one large.
   */
  value(max = MAX_FIELD_CHARS): string {
    // HTMLRewriter hands over text exactly as written: character references are still raw.
    return clip(decodeHTML(this.#raw).replace(ASCII_WHITESPACE, ' ').trim(), max);
  }
}

type MatchState = 'pending' | 'open' | 'done';

/** Tracks the first element a selector matches and the text inside it. */
class FirstMatch {
  state: MatchState = 'pending';
  readonly sink = new TextSink();

  /** Opens on the first match; ignores later ones. */
  element(el: Element): void {
    if (this.state !== 'pending') return;
    this.state = 'open';
    try {
      el.onEndTag(() => {
        this.state = 'done';
      });
    } catch {
      // Void elements (img, meta, ...) have no end tag and no text: the match is complete.
      this.state = 'done';
    }
  }

  text(t: Text): void {
    if (this.state === 'open') this.sink.append(t.text);
  }
}

/** Returns why `sel` is not a CSS selector HTMLRewriter accepts, or null when it is fine. */
export function validateSelector(sel: string): string | null {
  if (sel.trim() === '') return 'empty selector';
  try {
    new HTMLRewriter().on(sel, {});
    return null;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return message.replace(/^Parser error: /, '');
  }
}

/**
 * What relative references resolve against: the page's URL, then the first `<base href>`
 * (resolved against the page's URL; an unparseable one leaves the page's URL), as in a
 * browser. The parse streams, so references before a late `<base>` keep the page's URL.
 */
class BaseUrl {
  #url: URL;
  #fixed = false;

  constructor(url: string) {
    this.#url = new URL(url);
  }

  base(el: Element): void {
    if (this.#fixed || el.namespaceURI !== HTML_NS) return;
    this.#fixed = true;
    this.#url = this.resolve(attribute(el, 'href')) ?? this.#url;
  }

  /** `ref` resolved to a URL, or null when it is none. */
  resolve(ref: string | null): URL | null {
    if (ref === null) return null;
    try {
      return new URL(ref, this.#url);
    } catch {
      return null;
    }
  }
}

/** The distinct http(s) URLs of links in document order, fragments dropped, within bounds. */
class LinkList {
  readonly #urls = new Set<string>();
  #chars = 0;
  #full = false;

  add(url: URL | null): void {
    if (this.#full || url === null) return;
    url.hash = '';
    const href = httpHref(url);
    if (href === null || this.#urls.has(href)) return;
    if (this.#urls.size >= MAX_LINK_URLS || this.#chars + href.length > MAX_LINK_URLS_CHARS) {
      this.#full = true;
      return;
    }
    this.#urls.add(href);
    this.#chars += href.length;
  }

  /** Whether no more URLs are taken: later links need not be resolved at all. */
  get full(): boolean {
    return this.#full;
  }

  list(): string[] {
    return [...this.#urls];
  }
}

/** The first description, og:title, canonical link and `<html lang>` of a page. */
class MetaFinder {
  readonly found: PageMeta = { description: null, canonical: null, ogTitle: null, lang: null };
  #canonicalSeen = false;

  /** `<meta name="description" content>` and `<meta property="og:title" content>`. */
  meta(el: Element): void {
    if (el.namespaceURI !== HTML_NS) return;
    const { found } = this;
    if (found.description === null && attribute(el, 'name')?.toLowerCase() === 'description') {
      found.description = attributeText(el, 'content');
    }
    if (found.ogTitle === null && hasToken(attribute(el, 'property'), 'og:title')) {
      found.ogTitle = attributeText(el, 'content');
    }
  }

  /** The first `<link rel="canonical" href>`, resolved against the base in effect. */
  link(el: Element, base: BaseUrl): void {
    if (this.#canonicalSeen || el.namespaceURI !== HTML_NS) return;
    if (!hasToken(attribute(el, 'rel'), 'canonical')) return;
    this.#canonicalSeen = true;
    this.found.canonical = httpHref(base.resolve(attribute(el, 'href')));
  }

  /** The first `<html lang>`: later `<html>` tags only add attributes the root lacks. */
  html(el: Element): void {
    if (this.found.lang === null && el.namespaceURI === HTML_NS) {
      this.found.lang = attributeText(el, 'lang');
    }
  }
}

/** What `extract.links` and `extract.meta` gather, and the handlers that do it. */
class PageExtras {
  readonly #base: BaseUrl;
  readonly #links: LinkList | null;
  readonly #meta: MetaFinder | null;

  constructor(extras: ExtractExtras) {
    this.#base = new BaseUrl(extras.url);
    this.#links = extras.links ? new LinkList() : null;
    this.#meta = extras.meta ? new MetaFinder() : null;
  }

  /** An `<a href>`, already counted (one handler serves both: each call is a round trip). */
  anchor(el: Element): void {
    const links = this.#links;
    if (links !== null && !links.full) links.add(this.#base.resolve(attribute(el, 'href')));
  }

  /** `rewriter` with the handlers of `<base>` and of the metadata added. */
  on(rewriter: HTMLRewriter): HTMLRewriter {
    const base = this.#base;
    const out = rewriter.on('base[href]', { element: (el) => base.base(el) });
    const meta = this.#meta;
    if (meta === null) return out;
    return out
      .on('meta[content]', { element: (el) => meta.meta(el) })
      .on('link[rel][href]', { element: (el) => meta.link(el, base) })
      .on('html[lang]', { element: (el) => meta.html(el) });
  }

  result(): Pick<Extracted, 'linkUrls' | 'meta'> {
    return {
      ...(this.#links === null ? {} : { linkUrls: this.#links.list() }),
      ...(this.#meta === null ? {} : { meta: { ...this.#meta.found } }),
    };
  }
}

/**
 * Builds the HTMLRewriter handlers that collect title, link count and selector fields, and,
 * as `extras` asks, the link URLs and the page's metadata.
 */
export function createExtractor(
  selectors: Record<string, string>,
  extras: ExtractExtras | null = null,
): {
  rewriter: HTMLRewriter;
  result(): Extracted;
} {
  let links = 0;
  const title = new FirstMatch();
  const fields = Object.entries(selectors).map(([name, sel]) => ({
    name,
    sel,
    match: new FirstMatch(),
  }));
  const more = extras !== null && (extras.links || extras.meta) ? new PageExtras(extras) : null;

  // Every handler call is a native -> JS round trip, so the title takes no end-tag callback:
  // an HTML <title> is RCDATA, its content is one text node, and the chunk flagged
  // lastInTextNode ends it.
  let rewriter = new HTMLRewriter()
    .on('title', {
      element: (el) => {
        // A later <title> proves the first one closed (titles cannot nest), also when it
        // held no text node at all.
        if (title.state === 'open') title.state = 'done';
        // Only an HTML <title> is the document's title, not one inside <svg>.
        if (title.state === 'pending' && el.namespaceURI === HTML_NS) title.state = 'open';
      },
      text: (t) => {
        if (title.state !== 'open') return;
        title.sink.append(t.text);
        if (t.lastInTextNode) title.state = 'done';
      },
    })
    .on('a[href]', {
      element: (el) => {
        links++;
        more?.anchor(el);
      },
    });
  if (more !== null) rewriter = more.on(rewriter);
  for (const { sel, match } of fields) {
    rewriter = rewriter.on(sel, {
      element: (el) => match.element(el),
      text: (t) => match.text(t),
    });
  }

  return {
    rewriter,
    result: () => ({
      title: title.state === 'pending' ? null : title.sink.value(),
      links,
      data:
        fields.length === 0
          ? null
          : Object.fromEntries(
              fields.map(({ name, match }) => [
                name,
                match.state === 'pending' ? null : match.sink.value(),
              ]),
            ),
      ...more?.result(),
    }),
  };
}

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
