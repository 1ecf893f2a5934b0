/**
 * When a popup (a page a page opened: window.open, a link with a target) is closed. Closing one
 * while puppeteer's auto-attach to it is under way leaves the opener's navigation waiting
 * forever (its `load` never reported, not even puppeteer's own timeout firing), so a popup is
 * closed once puppeteer has announced it, or after a grace period if it never does. Only the
 * popups still open are held, so the book never outgrows the browser's tabs.
 */

/** How long a popup puppeteer does not announce stays open. */
export const POPUP_GRACE_MS = 2_000;

/** A target the browser reports (CDP `Target.targetCreated`, the part read). */
export interface CreatedTarget {
  targetInfo: { targetId: string; type: string; openerId?: string };
}

export class PopupCloser {
  readonly #close: (targetId: string) => void;
  readonly #graceMs: number;
  /** Popups seen and not yet closed or gone, with their grace timers. */
  readonly #open = new Map<string, ReturnType<typeof setTimeout>>();

  /** `close` asks the browser to close a target (called at most once per popup). */
  constructor(close: (targetId: string) => void, graceMs = POPUP_GRACE_MS) {
    this.#close = close;
    this.#graceMs = graceMs;
  }

  /** The popups waiting to be closed. */
  get waiting(): number {
    return this.#open.size;
  }

  /** CDP reported a target: a page with an opener is a popup, closed later (see above). */
  created({ targetInfo }: CreatedTarget): void {
    const { targetId, type, openerId } = targetInfo;
    if (type !== 'page' || !openerId || this.#open.has(targetId)) return;
    this.#open.set(
      targetId,
      setTimeout(() => this.#closeNow(targetId), this.#graceMs),
    );
  }

  /** Puppeteer announced a target (it has attached to it): a popup among them is closed now. */
  announced(targetId: string): void {
    this.#closeNow(targetId);
  }

  /** The target is gone (closed here, by the page, or with its context). */
  destroyed(targetId: string): void {
    clearTimeout(this.#open.get(targetId));
    this.#open.delete(targetId);
  }

  #closeNow(targetId: string): void {
    const timer = this.#open.get(targetId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#open.delete(targetId);
    this.#close(targetId);
  }
}
