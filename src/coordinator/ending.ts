import { pendingOf, settlementOf, type UrlCounts } from './counts';
import type { HandoutBook } from './handout-book';
import type { Ending, JobRecord } from './job-record';
import type { ChunkPlanRow, UrlStore } from './url-store';

/** What ending a job needs from the coordinator. */
interface EndingDeps {
  record: JobRecord;
  store: UrlStore;
  counts: UrlCounts;
  book: HandoutBook;
  /** Runs `fn` in one storage transaction. */
  transact: (fn: () => void) => void;
  /** Tells a shard to drop its run now. */
  abortRun: (idx: number, runId: string) => Promise<void>;
  wantAlarm: (at: number) => void;
  /** The alarm comes back this soon to finish an ending a failure cut off. */
  tickMs: number;
  /** URLs settled per turn of the thread. */
  chunkRows: number;
  /** Called once the job is terminal. */
  onTerminal: () => void;
  /** Stops the job's renders (never rejects); absent: the job has no renderer to tell. */
  endRenders?: () => Promise<void>;
}

/**
 * Ending a job (cancel, deadline, failFast): in-flight runs are aborted at once, nothing more
 * is handed out, and every unsettled URL gets the ending's error, one chunk per turn of the
 * thread so that reads and shard calls are served in between. The terminal status comes with
 * the last chunk. The ending is persisted first, so one cut off by a restart is finished by
 * the next alarm, not forgotten.
 */
export class JobEnding {
  readonly #d: EndingDeps;
  /** Every URL up to this idx is settled: where the next chunk starts. */
  #after = -1;
  /** The chunk loop while it runs; later callers join it. */
  #run: Promise<void> | null = null;

  constructor(deps: EndingDeps) {
    this.#d = deps;
  }

  /**
   * Ends the job as `ending` and resolves once it is terminal. A job already ending keeps
   * its ending: the caller waits for that one.
   */
  async end(ending: Ending): Promise<void> {
    const aborts = this.#d.record.ending ? [] : this.#begin(ending);
    await Promise.all([this.drive(), Promise.allSettled(aborts)]);
  }

  /** Runs the chunk loop of the ending under way, or joins the one running. */
  drive(): Promise<void> {
    this.#run ??= this.#settleRest().finally(() => {
      this.#run = null;
    });
    return this.#run;
  }

  /** Persists the ending and stops every run and render; returns their calls. */
  #begin(ending: Ending): Array<Promise<void>> {
    const { record, book } = this.#d;
    this.#d.transact(() => {
      record.setEnding(ending);
      record.clearRuns();
    });
    this.#after = -1;
    const stops = book.dropAll().map((r) => this.#d.abortRun(r.idx, r.runId));
    if (this.#d.endRenders) stops.push(this.#d.endRenders());
    return stops;
  }

  /**
   * Settles the ending's URLs chunk by chunk. The first chunk runs in the caller's turn, so a
   * job of one chunk is terminal when the call that ended it answers.
   */
  async #settleRest(): Promise<void> {
    const ending = this.#d.record.ending;
    if (!ending) return;
    // Should this invocation die or fail before the last chunk, the alarm picks the ending up.
    this.#d.wantAlarm(Date.now() + this.#d.tickMs);
    while (!this.#settleChunk(ending)) await scheduler.wait(0);
  }

  /**
   * Settles the next chunk of unsettled URLs with the ending's error, in one transaction;
   * once none is left, sets the terminal status. True when the job is terminal.
   */
  #settleChunk(ending: Ending): boolean {
    const { record, store, counts, chunkRows } = this.#d;
    const after = this.#after;
    let plan: ChunkPlanRow[] = [];
    let settled = 0;
    let last = after;
    const now = Date.now();
    this.#d.transact(() => {
      plan = store.planChunk(after, chunkRows);
      for (const p of plan) {
        settled += p.n;
        last = Math.max(last, p.last);
      }
      if (settled > 0) store.settleRange(ending.kind, ending.message, after, last);
      // Every URL up to `last` is settled now, so a short chunk was the last one.
      if (settled < chunkRows) record.finish(ending.status, now);
    });
    // The transaction committed: the counts follow (a URL's Result is the only way it
    // settles, so the chunk settled exactly what its plan counted).
    const to = settlementOf(false, ending.kind);
    for (const p of plan) counts.move(pendingOf(p.state), to, p.n);
    this.#after = last;
    if (settled >= chunkRows) return false;
    this.#d.onTerminal();
    return true;
  }
}
