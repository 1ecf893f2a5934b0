// What the Browser Rendering tests load: `/script-page` (content only a browser sees), `/sw.js`
// (a service worker), and `/__processes` (which Chromium processes are left).
import { readdirSync, readFileSync } from 'node:fs';
import type { Call } from './counters.ts';
import { escapeHtml, HTML, intParam, send } from './respond.ts';

/** The longest `?after=` a script page waits before it renders. */
const MAX_DELAY_MS = 10 * 60_000;

/** The ids of the processes whose command line contains `match`; null without /proc. */
function processesMatching(match: string): number[] | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const found: number[] = [];
  for (const pid of pids) {
    try {
      // Arguments are NUL-separated; zombies (already dead, not yet reaped) have none.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
      if (cmdline.includes(match) && Number(pid) !== process.pid) found.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** `/__processes?match=S`: `{"count": N, "pids": [...]}` (see the header comment). */
export function processesRoute({ res, url }: Call): void {
  const match = url.searchParams.get('match') ?? '';
  if (match.length < 8) {
    send(res, 400, 'application/json', '{"error":"match: at least 8 characters"}');
    return;
  }
  const pids = processesMatching(match);
  send(res, 200, 'application/json', JSON.stringify({ count: pids?.length ?? null, pids }));
}

/** A JSON string literal safe inside an inline `<script>` (no `</script>`, no `<!--`). */
function scriptString(s: string): string {
  return JSON.stringify(s).replace(/</g, '\\u003c');
}

/** What `/script-page` does besides rendering: `?ws=`, `?sw=`, `?alert=`, `?open=`, `?go=`. */
function scriptPageExtras(url: URL): { before: string; after: string } {
  const ws = url.searchParams.get('ws');
  const sw = url.searchParams.get('sw');
  const go = url.searchParams.get('go');
  const dialog = url.searchParams.get('alert');
  const popup = url.searchParams.get('open');
  const socket = `try { new WebSocket(${scriptString(ws ?? '')}).onerror = function () {}; } catch (e) {}`;
  const worker = `if (navigator.serviceWorker) navigator.serviceWorker.register(${scriptString(sw ?? '')}).catch(function () {});`;
  return {
    before:
      (ws !== null ? socket : '') +
      (sw !== null ? worker : '') +
      (dialog !== null ? `alert(${scriptString(dialog)});` : '') +
      (popup !== null ? `window.open(${scriptString(popup)});` : ''),
    after: go !== null ? `location.href = ${scriptString(go)};` : '',
  };
}

/**
 * `/script-page?title=T&links=N&after=MS&fetch=PATH&img=PATH` (and `ws`, `sw`, `alert`, `open`,
 * `go`): an HTML shell whose inline script sets the title and appends the links (see the header
 * comment).
 */
export function scriptPageRoute({ res, url }: Call): void {
  const title = url.searchParams.get('title') ?? 'Script page';
  const links = intParam(url, 'links', 0, 100_000);
  const after = intParam(url, 'after', 0, MAX_DELAY_MS);
  const fetchPath = url.searchParams.get('fetch');
  const img = url.searchParams.get('img');
  const extras = scriptPageExtras(url);
  const script = `
(function () {
  function render() {
    document.title = ${scriptString(title)};
    var h1 = document.createElement('h1');
    h1.textContent = document.title;
    var ul = document.createElement('ul');
    for (var i = 0; i < ${links}; i++) {
      var a = document.createElement('a');
      a.href = '/page?n=' + i;
      a.textContent = 'Link ' + i;
      var li = document.createElement('li');
      li.appendChild(a);
      ul.appendChild(li);
    }
    document.body.appendChild(h1);
    document.body.appendChild(ul);
    ${extras.after}
  }
  ${fetchPath !== null ? `fetch(${scriptString(fetchPath)}).catch(function () {});` : ''}
  ${extras.before}
  if (${after} > 0) setTimeout(render, ${after}); else render();
})();`;
  const image = img !== null ? `<img src="${escapeHtml(img)}" alt="">` : '';
  const body = `<!doctype html>\n<html><head><meta charset="utf-8"><title>Not rendered</title></head>\n<body>${image}<script>${script}</script></body></html>\n`;
  send(res, 200, HTML, body);
}

/** `/sw.js?fetch=URL&fetch=URL2`: a service worker that fetches each URL, in order, on install. */
export function serviceWorkerRoute({ res, url }: Call): void {
  const fetches = url.searchParams
    .getAll('fetch')
    .map((target) => `fetch(${scriptString(target)}).catch(function () {})`);
  const body = `self.addEventListener('install', function (e) {\n  e.waitUntil(Promise.all([${fetches.join(', ')}]));\n});\n`;
  send(res, 200, 'text/javascript; charset=utf-8', body);
}
