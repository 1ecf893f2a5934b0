import { decodeHTML, decodeHTMLAttribute } from 'entities';
import type { PageMeta } from '../jobs/types';
import { type ScriptBuilt, ScriptSignals } from '../render/signals';

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
  /** Why the page looks built by its scripts, or null (see ScriptSignals); when asked only. */
  scriptBuilt?: ScriptBuilt;
}

/** What an extraction gathers beyond title, link count and fields, and the page's URL. */
export interface ExtractExtras {
  /** The page's (final) URL: relative references resolve against it until a `<base href>`. */
  url: string;
  links: boolean;
  meta: boolean;
  /** Judge whether the page looks script-built (`render: "auto"`); false when absent. */
  signals?: boolean;
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
export class TextSink {
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
  const signals = extras?.signals === true ? new ScriptSignals() : null;
  if (signals !== null) rewriter = signals.on(rewriter);
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
      ...(signals === null ? {} : { scriptBuilt: signals.result() }),
    }),
  };
}
