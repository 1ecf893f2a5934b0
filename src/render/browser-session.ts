/**
 * One launched browser (a Browser Rendering session) as a Renderer holds it: a browser context
 * per job, so jobs share no cookies, storage or cache, closed when the job ends; popups closed as
 * they open (pages have only the tabs the renderer gives them); and, while private targets are
 * blocked, a browser-wide request interception that applies the SSRF rule to the requests no
 * page's interception sees: service workers (their scripts and their fetches), shared workers,
 * and popups.
 */
import puppeteer, {
  type Browser,
  type BrowserContext,
  type BrowserWorker,
  type CDPSession,
  type Target,
} from '@cloudflare/puppeteer';
import { type CreatedTarget, PopupCloser } from './popup-closer';
import { requestVerdict } from './request-rules';

/** A request paused by the browser-wide interception (CDP `Fetch.requestPaused`, the part read). */
interface PausedRequest {
  requestId: string;
  request: { url: string };
}

const ignore = (): void => undefined;

/**
 * How long Cloudflare keeps a browser that receives no command: longer than any render (a
 * job's timeoutMs is at most 120 s), so a page that is waited on never loses its browser, and
 * short enough that a session whose renderer died does not linger. Local sessions ignore it.
 */
const KEEP_ALIVE_MS = 300_000;
/** A browser that does not answer within this is taken for dead. */
const ALIVE_WAIT_MS = 2_000;

/** The CDP id of a puppeteer target: not public API, so undefined when it is not there. */
function targetIdOf(target: Target): string | undefined {
  const id = (target as unknown as { _targetId?: unknown })._targetId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The browser's own CDP session, on which every page a page opened is closed (`PopupCloser`):
 * its opener is named in the CDP event even when the opener has closed already, which
 * puppeteer's `Target.opener()` does not survive.
 */
async function browserSession(browser: Browser): Promise<CDPSession> {
  const cdp = await browser.target().createCDPSession();
  const popups = new PopupCloser((targetId) => {
    cdp.send('Target.closeTarget', { targetId }).catch(ignore);
  });
  cdp.on('Target.targetCreated', (event: CreatedTarget) => popups.created(event));
  cdp.on('Target.targetDestroyed', ({ targetId }: { targetId: string }) => {
    popups.destroyed(targetId);
  });
  browser.on('targetcreated', (target: Target) => {
    const targetId = targetIdOf(target);
    if (targetId !== undefined) popups.announced(targetId);
  });
  await cdp.send('Target.setDiscoverTargets', { discover: true });
  return cdp;
}

export class BrowserSession {
  readonly browser: Browser;
  readonly sessionId: string;
  readonly #binding: BrowserWorker;
  readonly #cdp: CDPSession;
  readonly #contexts = new Map<string, Promise<BrowserContext>>();
  #guarded: Promise<void> | null = null;
  /** close() was called: a disconnect is expected. */
  #closing = false;

  private constructor(browser: Browser, binding: BrowserWorker, cdp: CDPSession) {
    this.browser = browser;
    this.sessionId = browser.sessionId();
    this.#binding = binding;
    this.#cdp = cdp;
  }

  /** Launches a browser; `onGone` is called when it disconnects (closed, crashed, cut off). */
  static async launch(binding: BrowserWorker, onGone: (session: BrowserSession) => void) {
    const browser = await puppeteer.launch(binding, { keep_alive: KEEP_ALIVE_MS });
    let cdp: CDPSession;
    try {
      cdp = await browserSession(browser);
    } catch (err) {
      await browser.close().catch(ignore);
      throw err;
    }
    const session = new BrowserSession(browser, binding, cdp);
    browser.on('disconnected', () => {
      // Cut off, not closed: the session may still be running, so it is closed from here.
      if (!session.#closing) void closeSession(binding, session.sessionId);
      onGone(session);
    });
    return session;
  }

  get connected(): boolean {
    return this.browser.connected;
  }

  /** Whether the browser still answers (within ALIVE_WAIT_MS). */
  async alive(): Promise<boolean> {
    if (!this.browser.connected) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ALIVE_WAIT_MS);
    });
    const answer = this.browser.version().then(
      () => true,
      () => false,
    );
    const alive = await Promise.race([answer, late]);
    clearTimeout(timer);
    return alive;
  }

  /**
   * Applies `isBlocked` to every request of the browser from now on, for its whole life (a
   * browser is never unguarded again: jobs do not mix ALLOW_PRIVATE_TARGETS settings).
   */
  guard(isBlocked: (url: URL) => boolean): Promise<void> {
    this.#guarded ??= this.#startGuard(isBlocked).catch((err: unknown) => {
      this.#guarded = null;
      throw err;
    });
    return this.#guarded;
  }

  async #startGuard(isBlocked: (url: URL) => boolean): Promise<void> {
    const cdp = this.#cdp;
    const rules = { isBlocked, blockResources: false };
    const onPaused = (event: PausedRequest) => {
      const { requestId } = event;
      const verdict = requestVerdict(event.request.url, '', false, rules);
      const reply =
        verdict === 'continue'
          ? cdp.send('Fetch.continueRequest', { requestId })
          : cdp.send('Fetch.failRequest', { requestId, errorReason: 'BlockedByClient' });
      reply.catch(ignore);
    };
    // Listening before interception starts: a request paused in between would wait forever.
    cdp.on('Fetch.requestPaused', onPaused);
    try {
      await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*' }] });
    } catch (err) {
      cdp.off('Fetch.requestPaused', onPaused);
      throw err;
    }
  }

  /** The browser context of `jobId`'s pages, created on first use. */
  context(jobId: string): Promise<BrowserContext> {
    let context = this.#contexts.get(jobId);
    if (!context) {
      const created = this.browser.createBrowserContext();
      context = created;
      this.#contexts.set(jobId, created);
      created.catch(() => {
        if (this.#contexts.get(jobId) === created) this.#contexts.delete(jobId);
      });
    }
    return context;
  }

  /** Closes `jobId`'s context and every page still in it. */
  async closeContext(jobId: string): Promise<void> {
    const context = this.#contexts.get(jobId);
    if (!context) return;
    this.#contexts.delete(jobId);
    await context.then((c) => c.close()).catch(ignore);
  }

  /**
   * Closes the browser: the session ends and its processes exit. A browser this connection no
   * longer reaches is closed through a new connection to its session.
   */
  async close(): Promise<void> {
    this.#contexts.clear();
    this.#closing = true;
    try {
      await this.browser.close();
    } catch {
      await closeSession(this.#binding, this.sessionId);
    }
  }
}

/**
 * Closes the session `sessionId` (one a previous life of the renderer launched), if it is still
 * there: sessions are closed, never left to expire (a local one never does).
 */
export async function closeSession(binding: BrowserWorker, sessionId: string): Promise<void> {
  try {
    const open = await puppeteer.sessions(binding);
    if (!open.some((s) => s.sessionId === sessionId)) return;
    const browser = await puppeteer.connect(binding, sessionId);
    await browser.close();
  } catch {
    // Gone already, or not reachable: nothing more can be done from here.
  }
}
