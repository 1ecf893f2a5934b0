// The `render: "auto"` test: which statically fetched pages look built by their scripts.
import { describe, expect, it } from 'vitest';
import { MIN_VISIBLE_CHARS, ScriptSignals } from '../../src/render/signals';

async function judge(html: string) {
  const signals = new ScriptSignals();
  const res = signals
    .on(new HTMLRewriter())
    .transform(new Response(html, { headers: { 'content-type': 'text/html' } }));
  await res.arrayBuffer();
  return signals.result();
}

const prose = 'A paragraph of plain text that a static page serves. '.repeat(6);
const page = (body: string, head = '') =>
  `<!doctype html><html><head><title>T</title>${head}</head><body>${body}</body></html>`;

describe('ScriptSignals', () => {
  it('takes a page with its own text as static, scripts or not', async () => {
    expect(await judge(page(`<p>${prose}</p>`))).toBe(null);
    expect(await judge(page(`<p>${prose}</p><script>track()</script>`))).toBe(null);
    expect(
      await judge(page(`<div id="root"><p>${prose}</p></div><script src="/app.js"></script>`)),
    ).toBe(null);
  });

  it('finds an empty application root, whatever its id among the known ones', async () => {
    for (const id of ['root', 'app', '__next', '__nuxt', '___gatsby']) {
      const html = page(`<div id="${id}"></div><p>${prose}</p><script src="/app.js"></script>`);
      expect(await judge(html), id).toBe('empty-app-root');
    }
    // Only whitespace, or only a script, is still empty.
    expect(await judge(page(`<main id="app">  \n </main><p>${prose}</p>`))).toBe('empty-app-root');
    expect(await judge(page(`<div id="root"><script>boot()</script></div><p>${prose}</p>`))).toBe(
      'empty-app-root',
    );
    // An unknown id is no signal.
    expect(await judge(page(`<div id="mount"></div><p>${prose}</p>`))).toBe(null);
  });

  it('reads a <noscript> that asks for JavaScript', async () => {
    const asks = page(
      `<noscript>You need to enable JavaScript to run this app.</noscript><p>${prose}</p>`,
    );
    expect(await judge(asks)).toBe('noscript');
    const other = page(`<noscript><img src="/pixel.gif"></noscript><p>${prose}</p>`);
    expect(await judge(other)).toBe(null);
  });

  it('finds a shell with scripts and almost no text of its own', async () => {
    const shell = page(
      '<div class="x"></div><script src="/bundle.js"></script>',
      '<style>body{}</style>',
    );
    expect(await judge(shell)).toBe('little-text');
    // Text in scripts, styles and the title does not count.
    const hidden = page(`<script>var s = "${prose}";</script><style>/* ${prose} */</style>`);
    expect(await judge(hidden)).toBe('little-text');
    // Just below and at the threshold.
    const below = page(`<p>${'x'.repeat(MIN_VISIBLE_CHARS - 1)}</p><script></script>`);
    const at = page(`<p>${'x'.repeat(MIN_VISIBLE_CHARS)}</p><script></script>`);
    expect(await judge(below)).toBe('little-text');
    expect(await judge(at)).toBe(null);
    // Without a script a short page is what it is.
    expect(await judge(page('<p>Short.</p>'))).toBe(null);
  });
});
