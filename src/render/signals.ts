/**
 * Whether a statically fetched page looks built by its scripts (the `render: "auto"` test),
 * read in the same HTMLRewriter pass as everything else. A page is judged script-built when:
 *  - a known application root (`#root`, `#app`, `#__next`, `#__nuxt`, `#___gatsby`) is empty:
 *    no element and no text in it;
 *  - a `<noscript>` asks for JavaScript (its text names JavaScript, or asks to enable it);
 *  - it has scripts and almost no text of its own: fewer than MIN_VISIBLE_CHARS characters
 *    (whitespace aside) outside `<script>`, `<style>`, `<template>`, `<noscript>` and `<title>`.
 * Each rule is cheap and errs towards rendering: a short static page with a script is rendered.
 */

/** Text a page needs of its own, outside scripts, to pass as static. */
export const MIN_VISIBLE_CHARS = 200;

/** The ids frameworks mount their application on. */
export const APP_ROOT_IDS = ['root', 'app', '__next', '__nuxt', '___gatsby'] as const;

const ROOTS = APP_ROOT_IDS.map((id) => `#${id}`).join(', ');
const IN_ROOTS = APP_ROOT_IDS.map((id) => `#${id} *`).join(', ');
const HIDDEN_TAGS = new Set(['script', 'style', 'template', 'noscript', 'title']);
const HIDDEN = [...HIDDEN_TAGS].join(', ');
/** What a `<noscript>` says when the page needs scripts. */
const ASKS_FOR_JS = /javascript|enable\s+js|\bjs\b.*(enable|required|turn on)/i;
/** Characters of `<noscript>` text read at most. */
const MAX_NOSCRIPT_CHARS = 1_000;

/** Why a page was judged script-built, or null: it looks static. */
export type ScriptBuilt = 'empty-app-root' | 'noscript' | 'little-text' | null;

/** Collects the signals of one page; `on` adds its handlers to a rewriter. */
export class ScriptSignals {
  #scripts = 0;
  #hidden = 0;
  #noscript = 0;
  #noscriptText = '';
  #visible = 0;
  /** The open application root: whether anything was seen in it. */
  #root: { filled: boolean } | null = null;
  #emptyRoot = false;

  on(rewriter: HTMLRewriter): HTMLRewriter {
    return rewriter
      .on(HIDDEN, {
        element: (el) => {
          if (el.tagName === 'script') this.#scripts++;
          const noscript = el.tagName === 'noscript';
          this.#hidden++;
          if (noscript) this.#noscript++;
          el.onEndTag(() => {
            this.#hidden--;
            if (noscript) this.#noscript--;
          });
        },
        text: (t) => {
          if (this.#noscript > 0 && this.#noscriptText.length < MAX_NOSCRIPT_CHARS) {
            this.#noscriptText += t.text;
          }
        },
      })
      .on(ROOTS, {
        element: (el) => {
          if (this.#root !== null) return;
          const root = { filled: false };
          this.#root = root;
          el.onEndTag(() => {
            if (!root.filled) this.#emptyRoot = true;
            this.#root = null;
          });
        },
      })
      .on(IN_ROOTS, {
        element: (el) => {
          // A script or a template inside the root is not content.
          if (this.#root && !HIDDEN_TAGS.has(el.tagName)) this.#root.filled = true;
        },
      })
      .onDocument({
        text: (t) => {
          if (this.#hidden > 0 || this.#visible >= MIN_VISIBLE_CHARS) return;
          const own = t.text.replace(/\s+/g, '').length;
          if (own === 0) return;
          this.#visible += own;
          if (this.#root) this.#root.filled = true;
        },
      });
  }

  /** The verdict, once the whole page went through the rewriter. */
  result(): ScriptBuilt {
    if (this.#emptyRoot) return 'empty-app-root';
    if (ASKS_FOR_JS.test(this.#noscriptText)) return 'noscript';
    if (this.#scripts > 0 && this.#visible < MIN_VISIBLE_CHARS) return 'little-text';
    return null;
  }
}
