/**
 * Rendering one page in its own tab: the navigation with the job's User-Agent and headers,
 * every request judged by the request rules, waiting for `waitUntil` and the selector, then the
 * DOM serialised. The whole of it, from the moment the page got its tab, runs under the
 * request's `timeoutMs`; the job's end (the caller's signal) stops it at once. The tab is always
 * closed.
 */
import type { HTTPRequest, HTTPResponse, Page } from '@cloudflare/puppeteer';
import type { ErrorKind } from '../jobs/types';
import type { RenderRequest, RenderResult } from './protocol';
import { GUARD_SCRIPT, type RequestRules, requestVerdict } from './request-rules';

export interface RenderOptions {
  /** The SSRF guard (`blockedTarget` unless private targets are allowed). */
  isBlocked: ((url: URL) => boolean) | undefined;
  /** Aborted when the job ends: the render answers `cancelled`. */
  signal: AbortSignal;
}

/** Why a render stopped before it was done. */
type Halt = 'timeout' | 'cancelled' | 'blocked';

class Halted extends Error {
  readonly why: Halt;
  constructor(why: Halt) {
    super(`render stopped: ${why}`);
    this.why = why;
  }
}

/** A tab that takes longer than this to close is left closing: the render answers anyway. */
const CLOSE_WAIT_MS = 5_000;
/** Request headers that carry credentials: not sent to another origin (as fetch-page.ts does). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
const UTF8 = new TextEncoder();
const ignore = (): void => undefined;

/**
 * Renders `req.url` in the page `openPage` gives (a new tab), which is closed before this
 * resolves (or after CLOSE_WAIT_MS, whichever is first). Never rejects: a failure is a result.
 */
export function renderPage(
  openPage: () => Promise<Page>,
  req: RenderRequest,
  opts: RenderOptions,
): Promise<RenderResult> {
  return new PageRender(req, opts).run(openPage);
}

/** Closes the tab once it is open, waiting at most CLOSE_WAIT_MS. */
async function closeTab(opening: Promise<Page>): Promise<void> {
  const closing = opening.then((page) => page.close()).catch(ignore);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_WAIT_MS);
  });
  await Promise.race([closing, late]);
  clearTimeout(timer);
}

function isTimeoutError(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class PageRender {
  readonly #req: RenderRequest;
  readonly #rules: RequestRules;
  readonly #signal: AbortSignal;
  readonly #started = Date.now();
  readonly #halt = new AbortController();
  readonly #firstOrigin: string | null;
  /** The main-frame navigation the rules refused; it ends the page. */
  #blocked: string | null = null;
  /** The last main-frame URL let through, and the navigation response's status. */
  #url: string | null = null;
  #status: number | null = null;
  /** The selector being waited for, named by a timeout. */
  #selector: string | null = null;

  constructor(req: RenderRequest, opts: RenderOptions) {
    this.#req = req;
    this.#rules = { isBlocked: opts.isBlocked, blockResources: req.render.blockResources };
    this.#signal = opts.signal;
    this.#firstOrigin = URL.canParse(req.url) ? new URL(req.url).origin : null;
  }

  async run(openPage: () => Promise<Page>): Promise<RenderResult> {
    // A first URL the rules refuse needs no tab (nor a browser) to be refused.
    if (requestVerdict(this.#req.url, 'document', true, this.#rules) === 'blocked') {
      const url = URL.canParse(this.#req.url) ? new URL(this.#req.url).href : this.#req.url;
      return this.#failed('blocked_target', `blocked target: ${url}`, url);
    }
    const timer = setTimeout(() => this.#stop('timeout'), this.#req.timeoutMs);
    const cancel = () => this.#stop('cancelled');
    if (this.#signal.aborted) cancel();
    else this.#signal.addEventListener('abort', cancel, { once: true });
    // Opened whatever happens next, so that a page that opens after the render stopped is
    // closed all the same.
    const opening = this.#halt.signal.aborted
      ? Promise.reject(new Halted('cancelled'))
      : openPage();
    try {
      return await this.#render(opening);
    } catch (err) {
      return this.#failure(err);
    } finally {
      clearTimeout(timer);
      this.#signal.removeEventListener('abort', cancel);
      await closeTab(opening);
    }
  }

  async #render(opening: Promise<Page>): Promise<RenderResult> {
    const page = await this.#until(opening);
    await this.#until(this.#prepare(page));
    const { waitUntil, waitForSelector } = this.#req.render;
    const response = await this.#until(
      page.goto(this.#req.url, { waitUntil, timeout: this.#remaining() }),
    );
    if (response === null) throw new Error('the navigation had no response');
    const status = response.status();
    this.#status = status;
    if (status < 200 || status > 299) return this.#failed('http_status', `HTTP ${status}`);
    if (waitForSelector) {
      this.#selector = waitForSelector;
      await this.#until(page.waitForSelector(waitForSelector, { timeout: this.#remaining() }));
      this.#selector = null;
    }
    const html = await this.#until(page.content());
    if (this.#blocked !== null) throw new Halted('blocked');
    const bytes = UTF8.encode(html).byteLength;
    if (bytes > this.#req.maxBytes) {
      const message = `rendered HTML of ${bytes} bytes exceeds maxBytes (${this.#req.maxBytes})`;
      return this.#failed('too_large', message);
    }
    return {
      ok: true,
      finalUrl: page.url(),
      status,
      ...validators(response),
      html,
      renderMs: this.#ms(),
    };
  }

  /**
   * The tab's settings: the job's User-Agent, the guard script, request interception. A dialog
   * (alert, confirm, prompt) would hold the page's scripts until answered: it is dismissed. The
   * page's requests bypass service workers, so none can answer them in the network's place.
   */
  async #prepare(page: Page): Promise<void> {
    page.on('dialog', (dialog) => {
      dialog.dismiss().catch(ignore);
    });
    await page.setBypassServiceWorker(true);
    await page.setUserAgent(this.#req.userAgent);
    if (this.#rules.isBlocked) await page.evaluateOnNewDocument(GUARD_SCRIPT);
    await page.setRequestInterception(true);
    page.on('request', (request: HTTPRequest) => this.#route(page, request));
  }

  /** Lets one request of the page through, or not; a refused main navigation ends the page. */
  #route(page: Page, request: HTTPRequest): void {
    const main = request.isNavigationRequest() && request.frame() === page.mainFrame();
    const verdict = requestVerdict(request.url(), request.resourceType(), main, this.#rules);
    let reply: Promise<void>;
    if (verdict === 'continue') {
      if (main) this.#url = request.url();
      reply = main ? request.continue({ headers: this.#headers(request) }) : request.continue();
    } else {
      reply = request.abort('blockedbyclient');
      if (verdict === 'blocked') {
        this.#blocked ??= request.url();
        this.#stop('blocked');
      }
    }
    reply.catch(ignore);
  }

  /** A main-frame navigation's headers: the browser's, and the job's own (credentials only to
   * the first URL's origin, as a fetch's redirects have them). */
  #headers(request: HTTPRequest): Record<string, string> {
    const sameOrigin = URL.canParse(request.url())
      ? new URL(request.url()).origin === this.#firstOrigin
      : false;
    const headers = { ...request.headers() };
    for (const [name, value] of Object.entries(this.#req.headers)) {
      const lower = name.toLowerCase();
      if (sameOrigin || !CREDENTIAL_HEADERS.has(lower)) headers[lower] = value;
    }
    return headers;
  }

  /** `work`, or a Halted rejection as soon as the render is stopped. */
  #until<T>(work: Promise<T>): Promise<T> {
    const signal = this.#halt.signal;
    if (signal.aborted) {
      work.catch(ignore);
      return Promise.reject(new Halted(signal.reason as Halt));
    }
    return new Promise<T>((resolve, reject) => {
      const onHalt = () => reject(new Halted(signal.reason as Halt));
      signal.addEventListener('abort', onHalt, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onHalt);
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onHalt);
          reject(err);
        },
      );
    });
  }

  #stop(why: Halt): void {
    if (!this.#halt.signal.aborted) this.#halt.abort(why);
  }

  /** What a render that threw answers: cancelled, blocked, timed out, else a network failure. */
  #failure(err: unknown): RenderResult {
    const halted = this.#halt.signal.aborted ? (this.#halt.signal.reason as Halt) : null;
    if (halted === 'cancelled') return this.#failed('cancelled', 'cancelled: the job ended');
    if (this.#blocked !== null) {
      return this.#failed('blocked_target', `blocked target: ${this.#blocked}`, this.#blocked);
    }
    if (halted === 'timeout' || isTimeoutError(err)) {
      const waiting = this.#selector === null ? '' : ` waiting for selector "${this.#selector}"`;
      return this.#failed('timeout', `render timed out after ${this.#req.timeoutMs} ms${waiting}`);
    }
    const message = messageOf(err);
    // Chrome gives up after 20 redirects, as a fetch does.
    if (message.includes('ERR_TOO_MANY_REDIRECTS')) return this.#failed('redirect_loop', message);
    return this.#failed('network', message);
  }

  #failed(kind: ErrorKind, message: string, finalUrl = this.#url): RenderResult {
    return { ok: false, kind, message, status: this.#status, finalUrl, renderMs: this.#ms() };
  }

  /** Time left of the render's timeout; at least 1 ms (puppeteer reads 0 as no timeout). */
  #remaining(): number {
    return Math.max(1, this.#started + this.#req.timeoutMs - Date.now());
  }

  #ms(): number {
    return Date.now() - this.#started;
  }
}

/** The navigation response's Content-Type, ETag and Last-Modified. */
function validators(response: HTTPResponse) {
  const headers = response.headers();
  return {
    contentType: headers['content-type'] ?? null,
    etag: headers.etag ?? null,
    lastModified: headers['last-modified'] ?? null,
  };
}
