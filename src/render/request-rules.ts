/**
 * What a rendered page may load. Every request the browser makes is judged here: the page's own
 * (its navigations, redirects, scripts, XHR and fetch, images, iframes, dedicated workers), and,
 * through the browser-wide interception of `browser-session.ts`, the ones no page sees (service
 * workers, shared workers, popups). The SSRF rule is the fetch path's (`blockedTarget` unless
 * private targets are allowed), applied to every hop; WebSockets never pass through request
 * interception, so with the guard on the page gets no WebSocket at all (GUARD_SCRIPT).
 */

/** What becomes of one request. `blocked`: a refused main-frame navigation, the page's end. */
export type Verdict = 'continue' | 'abort' | 'blocked';

export interface RequestRules {
  /** The SSRF guard: true for a URL the service must not reach; undefined: none (allowPrivate). */
  isBlocked: ((url: URL) => boolean) | undefined;
  /** Images, media, fonts and the favicon are not loaded. */
  blockResources: boolean;
}

/** Schemes that reach no network: the page's own data, and Chrome's error page's images. */
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:']);
const WEB_SCHEMES = new Set(['http:', 'https:']);
/** The resource types `blockResources` drops (puppeteer's lower-cased names). */
const HEAVY_TYPES = new Set(['image', 'media', 'font']);

/**
 * The verdict on a request for `raw` of resource type `type` (puppeteer's lower-cased name);
 * `mainNavigation`: it would replace the page's main document (the first URL, a redirect of it,
 * or a script's navigation).
 */
export function requestVerdict(
  raw: string,
  type: string,
  mainNavigation: boolean,
  rules: RequestRules,
): Verdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return mainNavigation ? 'blocked' : 'abort';
  }
  if (LOCAL_SCHEMES.has(url.protocol)) return 'continue';
  if (!WEB_SCHEMES.has(url.protocol) || rules.isBlocked?.(url) === true) {
    return mainNavigation ? 'blocked' : 'abort';
  }
  if (rules.blockResources && !mainNavigation && isHeavy(url, type)) return 'abort';
  return 'continue';
}

/** An image, media or font, or the favicon Chrome asks for on its own (typed "other"). */
function isHeavy(url: URL, type: string): boolean {
  return HEAVY_TYPES.has(type) || (type === 'other' && url.pathname === '/favicon.ico');
}

/**
 * Run in every document before the page's scripts while the SSRF guard is on: WebSocket and
 * WebTransport connections are not visible to request interception, so they cannot be judged
 * per target and are refused altogether (fixed, non-configurable properties the page cannot put
 * back). Dedicated workers have their own globals, which this does not reach.
 */
export const GUARD_SCRIPT = `(() => {
  const refused = function () {
    throw new DOMException('blocked by the renderer: no WebSockets while private targets are blocked', 'SecurityError');
  };
  for (const name of ['WebSocket', 'WebTransport']) {
    if (name in globalThis) {
      Object.defineProperty(globalThis, name, { value: refused, writable: false, configurable: false });
    }
  }
})();`;
