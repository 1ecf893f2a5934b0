import type { OpenBodySink } from '../fetch/body-sink';
import { fetchPage, type PageOutcome, type PageRequest, pageHeaders } from '../fetch/fetch-page';
import { fetchRobots } from '../fetch/robots-fetch';
import { userAgent } from '../fetch/user-agent';
import { DEFAULT_RENDER_CONCURRENCY } from '../jobs/schema';
import { parseRetryAfter } from '../lib/backoff';
import { blockedTarget } from '../lib/ssrf';
import type { RenderRequest, RenderSpec } from '../render/protocol';
import {
  type ExchangeReply,
  type ExchangeRequest,
  PREFETCH_FACTOR,
  type ShardAssignment,
  type WorkItem,
  type WorkOutcome,
} from './protocol';
import { type RenderPort, renderedPage } from './render-item';
import { takeReport } from './report-batch';

/**
 * Finished outcomes wait at most this long to be batched into one report. Reports mostly go
 * out when a batch is full or work runs low; every exchange costs both objects CPU (an RPC
 * and a storage commit), so this only bounds how stale the job's counts get.
 */
const FLUSH_MS = 1000;
/** A report goes out at once when this many times the slots' outcomes wait. */
const REPORT_FACTOR = 3;
/**
 * Subrequests are counted per invocation (10,000 on paid plans, redirects included), so a run
 * retires after this many items and the coordinator starts a fresh one.
 */
const MAX_ITEMS_PER_RUN = 400;
const MAX_CALL_FAILURES = 8;

interface CoordinatorPort {
  exchange(req: ExchangeRequest): Promise<ExchangeReply>;
}

/**
 * One run of a shard: borrows URLs from the coordinator, fetches at most `slots` at once,
 * and reports outcomes back in batches. Holds nothing durable: if it dies, the coordinator's
 * lease on the run expires and its URLs are handed out again.
 */
export class ShardRun {
  readonly #a: ShardAssignment;
  readonly #port: CoordinatorPort;
  readonly #abort = new AbortController();
  /** The SSRF guard of every request the run makes (pages, robots.txt, each redirect hop). */
  readonly #blocked: ((url: URL) => boolean) | undefined;
  readonly #headers: Readonly<Record<string, string>>;
  /** Where ok HTML bodies are stored (`storeBodies`); none: bodies are only parsed. */
  readonly #openSink: OpenBodySink | undefined;
  /** The job's renderer (`render`); none: pages are only fetched. */
  readonly #renderer: RenderPort | undefined;
  #queue: WorkItem[] = [];
  /** Connections in use: a fetch holds one until its body is in (see fetchPage's onBodyRead). */
  #inflight = 0;
  /** Items started and not finished (a page still being parsed holds no connection). */
  #active = 0;
  #outbox: WorkOutcome[] = [];
  #started = 0;
  #stopping = false;
  /** The last call asked for work and got none while fetches still ran. */
  #starved = false;
  /** The coordinator had nothing queued at the last call (see ExchangeReply.dry). */
  #dry = false;
  /** The coordinator holds work back until outcomes come in: report each one at once. */
  #eager = false;
  /** Pages started since the last call and still running (see ExchangeRequest.started). */
  #unreported = new Set<number>();
  #lastCall = 0;
  #wake: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerAt = 0;
  /** Hosts held back until an epoch ms (a Retry-After seen here or told by the coordinator). */
  #holds = new Map<string, number>();
  #finished = false;

  constructor(
    a: ShardAssignment,
    port: CoordinatorPort,
    openSink?: OpenBodySink,
    renderer?: RenderPort,
  ) {
    this.#a = a;
    this.#openSink = openSink;
    this.#renderer = renderer;
    this.#blocked = a.allowPrivate ? undefined : blockedTarget;
    this.#headers = pageHeaders(a.userAgent, a.headers);
    this.#port = port;
    this.#queue.push(...a.items);
    for (const { host, until } of a.holds) this.#holds.set(host, until);
    // The start counts as the first call: the lease was just renewed.
    this.#lastCall = Date.now();
  }

  get runId(): string {
    return this.#a.runId;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Drops everything at once: in-flight fetches are aborted and nothing more is reported. */
  abort(): void {
    this.#abort.abort();
    this.#signal();
  }

  /** The run loop; resolves when the coordinator has nothing more or the run is aborted. */
  async run(): Promise<void> {
    try {
      await this.#loop();
    } finally {
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      this.#finished = true;
    }
  }

  async #loop(): Promise<void> {
    const slots = this.#a.slots;
    let failures = 0;
    while (!this.#abort.signal.aborted) {
      this.#fill();
      const idle = this.#active === 0 && this.#queue.length === 0;
      if (this.#stopping && idle && this.#outbox.length === 0) return;
      const now = Date.now();
      const sinceCall = now - this.#lastCall;
      const outbox = this.#outbox.length;
      // Work is asked for once less than one more round of it waits here; a report carries up
      // to REPORT_FACTOR x slots outcomes while the rest of the prefetch keeps the slots busy.
      // A run that got nothing asks again only with an outcome to report (it lowers what the
      // run holds, which its share of the work left is measured against), and not at all while
      // nothing is queued: a report per finished fetch would only come back empty, and costs
      // both objects an exchange.
      const wantsWork = !this.#stopping && (idle || (!this.#dry && (!this.#starved || outbox > 0)));
      // Under eager replies the coordinator hands out no more than a shard's free connections
      // (host limits, the last rounds): asking while none is free would only come back empty.
      const low = this.#eager
        ? this.#active + this.#queue.length < slots
        : this.#queue.length < slots;
      const callNow =
        outbox >= REPORT_FACTOR * slots ||
        (outbox > 0 && (this.#eager || sinceCall >= FLUSH_MS || idle || this.#stopping)) ||
        (wantsWork && (idle || low || (sinceCall >= FLUSH_MS && this.#queue.length < 2 * slots))) ||
        sinceCall >= this.#a.heartbeatMs;
      if (callNow) {
        try {
          await this.#call(slots);
          failures = 0;
        } catch (err) {
          failures++;
          if (failures >= MAX_CALL_FAILURES) {
            console.error('shard gives up reaching its coordinator', err);
            this.abort();
            return;
          }
          await this.#sleep(Math.min(2_000, 50 * 2 ** failures));
        }
        continue;
      }
      const soon = outbox > 0 || (wantsWork && this.#queue.length < 2 * slots);
      const wait = soon ? FLUSH_MS - sinceCall : this.#a.heartbeatMs - sinceCall;
      await this.#sleep(Math.max(1, Math.min(wait, this.#untilHoldEnds(now))));
    }
  }

  async #call(slots: number): Promise<void> {
    const outcomes = takeReport(this.#outbox);
    const started = [...this.#unreported];
    this.#unreported.clear();
    const retiring = this.#started >= MAX_ITEMS_PER_RUN;
    if (retiring) this.#stopping = true;
    const target = this.#stopping ? 0 : slots * PREFETCH_FACTOR;
    const want = Math.max(0, target - this.#queue.length - this.#active);
    this.#lastCall = Date.now();
    let reply: ExchangeReply;
    try {
      reply = await this.#port.exchange({
        shardIdx: this.#a.shardIdx,
        runId: this.#a.runId,
        outcomes,
        started,
        want,
        inflight: this.#active,
        queued: this.#queue.length,
        retiring,
      });
    } catch (err) {
      this.#outbox.unshift(...outcomes);
      for (const idx of started) this.#unreported.add(idx);
      throw err;
    }
    if (reply.abort) {
      this.abort();
      return;
    }
    if (reply.stop) this.#stopping = true;
    this.#eager = reply.eager === true;
    for (const { host, until } of reply.holds ?? []) this.#holds.set(host, until);
    this.#queue.push(...reply.items);
    // Items waiting for their start (holds, notBefore) count as work here: asking again before
    // one of them ran would only come back empty, at the cost of an exchange each time.
    this.#starved =
      want > 0 && reply.items.length === 0 && (this.#active > 0 || this.#queue.length > 0);
    this.#dry = reply.dry === true;
  }

  /** Starts queued items while slots are free, skipping held hosts and items not yet due. */
  #fill(): void {
    const now = Date.now();
    for (const [host, until] of this.#holds) if (until <= now) this.#holds.delete(host);
    let i = 0;
    while (this.#inflight < this.#a.slots && i < this.#queue.length) {
      const item = this.#queue[i];
      if (!item) break;
      const held = item.type === 'page' && this.#holds.has(item.host);
      if (held || (item.notBefore ?? 0) > now) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#inflight++;
      this.#active++;
      this.#started++;
      if (item.type === 'page') this.#unreported.add(item.idx);
      void this.#runItem(item);
    }
  }

  /** Milliseconds until the earliest hold ends or a waiting item falls due, if any. */
  #untilHoldEnds(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const until of this.#holds.values()) next = Math.min(next, until - now);
    for (const item of this.#queue) if (item.notBefore) next = Math.min(next, item.notBefore - now);
    return next;
  }

  async #runItem(item: WorkItem): Promise<void> {
    const a = this.#a;
    let released = false;
    // The connection is given back once the body is in (or the item ended): the freed slot
    // takes the next queued URL at once, even while this page is still being parsed or the
    // loop waits for the coordinator's reply, so no slot idles on either.
    const release = (): void => {
      if (released) return;
      released = true;
      this.#inflight--;
      if (!this.#abort.signal.aborted) this.#fill();
    };
    try {
      if (item.type === 'robots') {
        const signal = this.#abort.signal;
        const agent = this.#headers['user-agent'];
        const rules = await fetchRobots(item.url, a.timeoutMs, signal, this.#blocked, agent);
        this.#outbox.push({ type: 'robots', hostId: item.hostId, rules });
      } else {
        const outcome = await this.#page(item, release);
        if (!outcome.ok && outcome.retryAfter !== null) {
          const ms = parseRetryAfter(outcome.retryAfter, Date.now());
          if (ms !== null && ms > 0) this.#holds.set(item.host, Date.now() + ms);
        }
        this.#unreported.delete(item.idx);
        this.#outbox.push({ type: 'page', idx: item.idx, outcome });
      }
    } catch (err) {
      // fetchPage turns every failure into an outcome; should it throw anyway, the URL still
      // gets an outcome (retried like a network error) instead of waiting forever.
      console.error('shard item failed unexpectedly', err);
      if (item.type === 'page' && !this.#abort.signal.aborted) {
        this.#unreported.delete(item.idx);
        this.#outbox.push({ type: 'page', idx: item.idx, outcome: internalFailure(err) });
      }
    } finally {
      release();
      this.#active--;
      this.#signal();
    }
  }

  /** The outcome of a page item: fetched, or as the job's `render` says. */
  #page(item: Extract<WorkItem, { type: 'page' }>, release: () => void): Promise<PageOutcome> {
    const a = this.#a;
    const req: PageRequest = {
      url: item.url,
      timeoutMs: a.timeoutMs,
      maxBytes: a.maxBytes,
      selectors: a.selectors,
      links: a.links,
      meta: a.meta,
      signal: this.#abort.signal,
      isBlocked: this.#blocked,
      headers: this.#headers,
      openSink: this.#openSink,
      // Absent validators stay undefined: fetchPage sends only the ones given.
      ifNoneMatch: item.etag,
      ifModifiedSince: item.lastModified,
    };
    const render = a.render;
    if (render === undefined) return fetchPage({ ...req, onBodyRead: release });
    // A page to be rendered holds its connection until it is done: the render is a request
    // of the run's as well, so a shard has at most `slots` fetches and renders at once.
    return renderedPage(req, this.#renderRequest(item.url, render), this.#renderer);
  }

  #renderRequest(url: string, render: RenderSpec): RenderRequest {
    const a = this.#a;
    return {
      jobId: a.jobId,
      url,
      timeoutMs: a.timeoutMs,
      maxBytes: a.maxBytes,
      render,
      tabs: a.renderConcurrency ?? DEFAULT_RENDER_CONCURRENCY,
      allowPrivate: a.allowPrivate,
      userAgent: this.#headers['user-agent'] ?? userAgent(),
      headers: a.headers ?? {},
    };
  }

  /**
   * Waits until something happens (an item finishes, an abort) or `ms` pass. One timer serves
   * every wait: it is only replaced when a wait needs an earlier wake-up, and a stale one only
   * costs a spare turn of the loop.
   */
  #sleep(ms: number): Promise<void> {
    const at = Date.now() + ms;
    if (this.#timer === null || at < this.#timerAt) {
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timerAt = at;
      this.#timer = setTimeout(this.#onTimer, ms);
    }
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#signal();
  };

  #signal(): void {
    const wake = this.#wake;
    if (wake === null) return;
    this.#wake = null;
    wake();
  }
}

function internalFailure(err: unknown): PageOutcome {
  return {
    ok: false,
    kind: 'network',
    message: `internal error: ${err instanceof Error ? err.message : String(err)}`,
    status: null,
    finalUrl: null,
    contentType: null,
    bytes: 0,
    durationMs: 0,
    fetchedAt: new Date().toISOString(),
    retryAfter: null,
  };
}
