/**
 * Browser code shared by the dashboard's pages: the token, calls to /v1, DOM helpers and
 * formatting. It is plain JavaScript kept as a string (there is no front-end build step): it
 * is served inside /ui/app.js, never evaluated by the worker.
 *
 * Invariants: the token lives only in sessionStorage and in Authorization headers (never in a
 * URL or the DOM); every value that came from the API reaches the DOM as text (textContent,
 * text nodes, setAttribute on non-URL attributes), never as markup.
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw, so that escapes in the browser code reach the browser as written
export const CORE_JS = String.raw`
const TOKEN_KEY = 'scrape-fanout.token';
const TERMINAL = ['completed', 'failed', 'cancelled', 'timed_out'];
const tokenListeners = [];

function readToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch (e) {
    return null;
  }
}

function storeToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (e) {
    say('This browser does not allow sessionStorage: the token cannot be kept.', true);
  }
}

function byId(id) {
  return document.getElementById(id);
}

function setText(id, text) {
  const node = byId(id);
  if (node) node.textContent = text;
}

/** An element whose string children become text nodes: API data never becomes markup. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A class name made only of [a-z0-9_-], whatever the API sent. */
function cssToken(value) {
  return String(value).toLowerCase().replace(/[^a-z0-9_-]/g, '');
}

function statusBadge(status) {
  return el('span', { class: 'status status-' + cssToken(status) }, status);
}

const numberFormat = new Intl.NumberFormat('en');

function fmtInt(n) {
  return typeof n === 'number' && Number.isFinite(n) ? numberFormat.format(n) : '–';
}

function fmtMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  if (ms >= 10000) return (ms / 1000).toFixed(1) + ' s';
  return numberFormat.format(Math.round(ms)) + ' ms';
}

/** A time as YYYY-MM-DD HH:MM:SS in the browser's time zone. */
function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const two = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' +
    two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
}

function fmtRate(perSec) {
  if (typeof perSec !== 'number' || !Number.isFinite(perSec)) return '–';
  return numberFormat.format(Math.round(perSec * 10) / 10) + '/s';
}

function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  if (n < 1024) return numberFormat.format(n) + ' B';
  if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1048576).toFixed(1) + ' MiB';
}

function settledOf(counts) {
  return counts.succeeded + counts.failed + counts.cancelled;
}

function isTerminal(status) {
  return TERMINAL.includes(status);
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Shows a message in the page's status line (an error in its alert line). */
function say(text, isError) {
  const info = byId('message');
  const alert = byId('alert');
  if (isError) {
    if (alert) { alert.textContent = text; alert.hidden = false; }
    if (info) info.textContent = '';
  } else {
    if (info) info.textContent = text;
    if (alert) { alert.textContent = ''; alert.hidden = true; }
  }
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** fetch() of an API path with the token; a 401 forgets the token and asks for it again. */
async function api(path, init) {
  const token = readToken();
  if (!token) {
    showTokenState();
    throw new ApiError(0, 'no_token', 'Enter the API token first.');
  }
  const options = init || {};
  const headers = new Headers(options.headers || {});
  headers.set('authorization', 'Bearer ' + token);
  const res = await fetch(path, {
    ...options,
    headers,
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  });
  if (res.status === 401) {
    storeToken(null);
    showTokenState();
    byId('token-input').focus();
  }
  return res;
}

/** The API error of a failed response, from its envelope when it has one. */
async function errorOf(res) {
  let envelope = null;
  try {
    envelope = (await res.json()).error;
  } catch (e) {
    envelope = null;
  }
  if (envelope && typeof envelope.message === 'string') {
    return new ApiError(res.status, String(envelope.code), envelope.message);
  }
  return new ApiError(res.status, 'http_' + res.status, 'HTTP ' + res.status);
}

/** An API call's JSON body; throws ApiError for any non-2xx answer. */
async function apiJson(path, init) {
  const res = await api(path, init);
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

function sendJson(method, body) {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function showError(err) {
  if (err && err.name === 'AbortError') return;
  if (err instanceof ApiError && err.status === 401) {
    say('The token was refused: enter it again.', true);
    return;
  }
  say(err instanceof Error ? err.message : String(err), true);
}

function showTokenState() {
  const has = Boolean(readToken());
  byId('token-form').hidden = has;
  byId('token-set').hidden = !has;
  const notice = byId('need-token');
  if (notice) notice.hidden = has;
}

/** Runs fn now if a token is set, and again whenever one is entered. */
function whenToken(fn) {
  tokenListeners.push(fn);
  if (readToken()) fn();
}

function initToken() {
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId('token-input');
    const token = input.value.trim();
    input.value = '';
    if (!token) return;
    storeToken(token);
    showTokenState();
    say('Token set for this tab.', false);
    for (const fn of tokenListeners) fn();
  });
  byId('token-forget').addEventListener('click', () => {
    storeToken(null);
    location.reload();
  });
  showTokenState();
}
`;
