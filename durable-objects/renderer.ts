import { DurableObject } from 'cloudflare:workers';
import type { Page } from '@cloudflare/puppeteer';
import { blockedTarget } from '../src/lib/ssrf';
import { BrowserSession, closeSession } from '../src/render/browser-session';
import type { RenderRequest, RenderResult } from '../src/render/protocol';
import { renderPage } from '../src/render/render-page';
import { TabQueue } from '../src/render/tab-queue';

/** Tabs one browser has open at once, across the jobs it renders for. */
const TABS_PER_BROWSER = 10;
/** A browser with no tab open this long is closed (the alarm's safety net). */
const IDLE_CLOSE_MS = 30_000;
/** How long endJob waits for the job's renders to close their tabs. */
const END_WAIT_MS = 5_000;
/** Ended jobs remembered, so that a page sent after its job ended opens no browser again. */
const ENDED_KEPT = 1_000;
/**
 * Storage keys of the sessions this object launched and has not closed: `session:<id>`, so that
 * a browser it lost (eviction, a crash, a cut connection) is closed by a later turn of it.
 */
const SESSION_PREFIX = 'session:';

/** A render in flight, as endJob stops it. */
interface Flight {
  cancel: AbortController;
  done: Promise<unknown>;
}

/** What a renderer holds now (for operators and tests). */
export interface RendererStatus {
  /** The open browser's session id; null: none. */
  sessionId: string | null;
  tabs: number;
  waiting: number;
  /** Jobs with a render in flight or waiting. */
  jobs: string[];
}

function cancelled(renderMs: number): RenderResult {
  const message = 'cancelled: the job ended';
  return { ok: false, kind: 'cancelled', message, status: null, finalUrl: null, renderMs };
}

/** A new tab of `jobId` in `session`, its guard on first if private targets are blocked. */
async function openTab(
  session: BrowserSession,
  jobId: string,
  isBlocked: ((url: URL) => boolean) | undefined,
): Promise<Page> {
  if (isBlocked) await session.guard(isBlocked);
  const context = await session.context(jobId);
  return context.newPage();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One browser of the pool (src/render/renderer-pool.ts names the instances): launched on the
 * first page, reused for every page of every job routed here, one tab per page, at most
 * TABS_PER_BROWSER tabs at once and at most a job's `tabs` for each job (a page's timeoutMs
 * counts from when it gets its tab; waiting ends only with the job). The browser is closed as
 * soon as an ended job leaves no tab open, and after IDLE_CLOSE_MS without a tab. Its session id
 * is stored until it is closed, so a browser this object lost (eviction, a crash, a cut
 * connection) is closed on its next start or alarm. A browser that disconnects or stops
 * answering is replaced for the next page.
 */
export class Renderer extends DurableObject<Env> {
  readonly #tabs = new TabQueue(TABS_PER_BROWSER);
  #session: Promise<BrowserSession> | null = null;
  readonly #flights = new Map<string, Set<Flight>>();
  readonly #ended = new Set<string>();
  /** When the last tab closed; null while a tab is open. */
  #idleSince: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(() => this.#closeLost(null));
  }

  /** Renders one page of a job (see the class comment). */
  async render(req: RenderRequest): Promise<RenderResult> {
    if (this.#ended.has(req.jobId)) return cancelled(0);
    const cancel = new AbortController();
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const flight: Flight = { cancel, done };
    this.#track(req.jobId, flight);
    try {
      return await this.#renderInTab(req, cancel.signal);
    } finally {
      this.#untrack(req.jobId, flight);
      finish();
    }
  }

  /** Waits for a tab, renders the page in it, gives the tab back. */
  async #renderInTab(req: RenderRequest, signal: AbortSignal): Promise<RenderResult> {
    const tabs = Math.min(Math.max(1, Math.floor(req.tabs) || 1), TABS_PER_BROWSER);
    const release = await this.#tabs.acquire(req.jobId, tabs, signal).catch(() => null);
    if (release === null) return cancelled(0);
    this.#idleSince = null;
    try {
      const isBlocked = req.allowPrivate ? undefined : blockedTarget;
      const open = () => this.#openPage(req.jobId, isBlocked);
      return await renderPage(open, req, { isBlocked, signal });
    } finally {
      release();
      if (this.#tabs.open === 0) this.#idle();
    }
  }

  /**
   * The job ended: its renders in flight answer `cancelled` (their tabs closed), its waiting
   * pages too, and later pages of it are refused; with no tab left open, the browser is closed.
   */
  async endJob(jobId: string): Promise<void> {
    this.#remember(jobId);
    const flights = [...(this.#flights.get(jobId) ?? [])];
    for (const f of flights) f.cancel.abort();
    await Promise.race([Promise.all(flights.map((f) => f.done)), sleep(END_WAIT_MS)]);
    const session = await this.#session?.catch(() => null);
    await session?.closeContext(jobId);
    if (this.#tabs.open === 0 && this.#tabs.waiting === 0) await this.#closeBrowser();
  }

  async status(): Promise<RendererStatus> {
    const session = await this.#session?.catch(() => null);
    return {
      sessionId: session?.connected ? session.sessionId : null,
      tabs: this.#tabs.open,
      waiting: this.#tabs.waiting,
      jobs: [...this.#flights.keys()],
    };
  }

  /**
   * Closes the sessions on record that are not the open browser, then a browser without a tab
   * for IDLE_CLOSE_MS; comes back while a browser is open.
   */
  async alarm(): Promise<void> {
    const held = await this.#session?.catch(() => null);
    await this.#closeLost(held?.sessionId ?? null);
    if (!this.#session) return;
    const idleFor = this.#idleSince === null ? 0 : Date.now() - this.#idleSince;
    if (this.#tabs.open === 0 && idleFor >= IDLE_CLOSE_MS) return this.#closeBrowser();
    await this.ctx.storage.setAlarm(Date.now() + IDLE_CLOSE_MS - Math.min(idleFor, IDLE_CLOSE_MS));
  }

  /**
   * A new tab in the job's browser context; launches the browser first if there is none. A
   * browser that cannot open the tab and does not answer is broken (crashed, closing, cut off
   * without notice yet): it is replaced, once, for this page.
   */
  async #openPage(jobId: string, isBlocked: ((url: URL) => boolean) | undefined): Promise<Page> {
    const pending = this.#browser();
    const session = await pending;
    try {
      return await openTab(session, jobId, isBlocked);
    } catch (err) {
      if (await session.alive()) throw err;
      if (this.#session === pending) this.#session = null;
      void session.close();
      return openTab(await this.#browser(), jobId, isBlocked);
    }
  }

  /**
   * The open browser, or a new one when there is none: a launch that failed or a browser that
   * disconnected (crashed, cut off) is replaced once, by the page that finds it so.
   */
  async #browser(): Promise<BrowserSession> {
    const pending = this.#session;
    if (pending) {
      const current = await pending.catch(() => null);
      if (current?.connected) return current;
      if (this.#session === pending) {
        this.#session = null;
        if (current) void current.close();
      }
    }
    this.#session ??= this.#launch();
    return this.#session;
  }

  #launch(): Promise<BrowserSession> {
    const onGone = (gone: BrowserSession) => {
      void launching.then((held) => {
        if (held === gone && this.#session === launching) this.#session = null;
      });
    };
    const launching: Promise<BrowserSession> = BrowserSession.launch(this.env.BROWSER, onGone).then(
      async (session) => {
        await this.ctx.storage.put(`${SESSION_PREFIX}${session.sessionId}`, Date.now());
        await this.ctx.storage.setAlarm(Date.now() + IDLE_CLOSE_MS);
        return session;
      },
      (err: unknown) => {
        if (this.#session === launching) this.#session = null;
        throw new Error(`the browser could not be launched: ${String(err)}`);
      },
    );
    return launching;
  }

  /** Closes the browser (if any) and forgets its session. */
  async #closeBrowser(): Promise<void> {
    const pending = this.#session;
    this.#session = null;
    this.#idleSince = null;
    const session = await pending?.catch(() => null);
    if (!session) return;
    await session.close();
    await this.ctx.storage.delete(`${SESSION_PREFIX}${session.sessionId}`);
  }

  /** Closes every session on record but `keep` (the open browser's), and forgets them. */
  async #closeLost(keep: string | null): Promise<void> {
    const recorded = await this.ctx.storage.list({ prefix: SESSION_PREFIX });
    for (const key of recorded.keys()) {
      const sessionId = key.slice(SESSION_PREFIX.length);
      if (sessionId === keep) continue;
      await closeSession(this.env.BROWSER, sessionId);
      await this.ctx.storage.delete(key);
    }
  }

  #idle(): void {
    this.#idleSince = Date.now();
    void this.ctx.storage.setAlarm(this.#idleSince + IDLE_CLOSE_MS);
  }

  #track(jobId: string, flight: Flight): void {
    let set = this.#flights.get(jobId);
    if (!set) {
      set = new Set();
      this.#flights.set(jobId, set);
    }
    set.add(flight);
  }

  #untrack(jobId: string, flight: Flight): void {
    const set = this.#flights.get(jobId);
    set?.delete(flight);
    if (set?.size === 0) this.#flights.delete(jobId);
  }

  #remember(jobId: string): void {
    this.#ended.add(jobId);
    if (this.#ended.size > ENDED_KEPT) {
      const oldest = this.#ended.values().next().value;
      if (oldest !== undefined) this.#ended.delete(oldest);
    }
  }
}
