import { decodeHTML } from 'entities';

/** Longest text kept for one selector field, in UTF-16 code units. */
export const MAX_FIELD_CHARS = 2_000;

/**
 * Raw (undecoded, whitespace-collapsed) text kept per field or title. The longest character
 * reference (`&CounterClockwiseContourIntegral;`, 33 chars) decodes to one char, so this is
 * enough for MAX_FIELD_CHARS decoded chars in the worst case while bounding memory.
 */
const MAX_RAW_CHARS = MAX_FIELD_CHARS * 33;

const HTML_NS = 'http://www.w3.org/1999/xhtml';
const ASCII_WHITESPACE = /[\t\n\f\r ]+/g;

/** What one page yields: the first title, the link count and the selector fields. */
export interface Extracted {
  title: string | null;
  links: number;
  data: Record<string, string | null> | null;
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

  /** Decoded, collapsed and trimmed text, at most `max` code units (pairs kept whole). */
  value(max = Number.POSITIVE_INFINITY): string {
    // HTMLRewriter hands over text exactly as written: character references are still raw.
    const text = decodeHTML(this.#raw).replace(ASCII_WHITESPACE, ' ').trim();
    if (text.length <= max) return text;
    const last = text.charCodeAt(max - 1);
    const cut = last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
    return text.slice(0, cut).trimEnd();
  }
}

type MatchState = 'pending' | 'open' | 'done';

/** Tracks the first element a selector matches and the text inside it. */
class FirstMatch {
  state: MatchState = 'pending';
  readonly sink = new TextSink();

  /** Opens on the first match (of an HTML element when `htmlOnly`); ignores later ones. */
  element(el: Element, htmlOnly = false): void {
    if (this.state !== 'pending') return;
    if (htmlOnly && el.namespaceURI !== HTML_NS) return;
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

/** Builds the HTMLRewriter handlers that collect title, link count and selector fields. */
export function createExtractor(selectors: Record<string, string>): {
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

  let rewriter = new HTMLRewriter()
    .on('title', {
      // Only an HTML <title> is the document's title, not one inside <svg>.
      element: (el) => title.element(el, true),
      text: (t) => title.text(t),
    })
    .on('a[href]', {
      element: () => {
        links++;
      },
    });
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
                match.state === 'pending' ? null : match.sink.value(MAX_FIELD_CHARS),
              ]),
            ),
    }),
  };
}
