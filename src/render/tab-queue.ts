/**
 * The tabs of one browser: at most `total` open at once across jobs, and at most a job's own
 * limit (its renderConcurrency) for each job. A page waits for a tab in arrival order; a waiter
 * whose job is at its limit lets the ones behind it (other jobs') pass, and gets the first tab
 * its job frees. Waiting is bounded only by the caller's signal (the job ending).
 */

/** Gives a tab back; calling it again does nothing. */
export type Release = () => void;

/** Why a wait ended without a tab: the signal was aborted. */
export class TabWaitAborted extends Error {
  constructor() {
    super('the wait for a tab was aborted');
    this.name = 'TabWaitAborted';
  }
}

interface Waiter {
  jobId: string;
  limit: number;
  grant: (release: Release) => void;
}

export class TabQueue {
  readonly #total: number;
  #open = 0;
  readonly #perJob = new Map<string, number>();
  readonly #waiters: Waiter[] = [];

  constructor(total: number) {
    this.#total = Math.max(1, total);
  }

  /** Tabs open now, across jobs. */
  get open(): number {
    return this.#open;
  }

  /** Pages waiting for a tab. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Tabs `jobId` has open now. */
  openFor(jobId: string): number {
    return this.#perJob.get(jobId) ?? 0;
  }

  /**
   * A tab for a page of `jobId`, whose job may hold `limit` at once; rejects with TabWaitAborted
   * when `signal` aborts first.
   */
  acquire(jobId: string, limit: number, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(new TabWaitAborted());
    const max = Math.max(1, limit);
    // Every waiter is held back by its own job's limit (#pump leaves none that fits), so a page
    // that fits now passes none of them unfairly.
    if (this.#fits(jobId, max)) return Promise.resolve(this.#take(jobId));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        jobId,
        limit: max,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(new TabWaitAborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #fits(jobId: string, limit: number): boolean {
    return this.#open < this.#total && this.openFor(jobId) < limit;
  }

  #take(jobId: string): Release {
    this.#open++;
    this.#perJob.set(jobId, this.openFor(jobId) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open--;
      const left = this.openFor(jobId) - 1;
      if (left > 0) this.#perJob.set(jobId, left);
      else this.#perJob.delete(jobId);
      this.#pump();
    };
  }

  /** Grants free tabs to waiters in arrival order, skipping those whose job is at its limit. */
  #pump(): void {
    for (let i = 0; i < this.#waiters.length && this.#open < this.#total; ) {
      const w = this.#waiters[i];
      if (w && this.openFor(w.jobId) < w.limit) {
        this.#waiters.splice(i, 1);
        w.grant(this.#take(w.jobId));
      } else {
        i++;
      }
    }
  }
}
