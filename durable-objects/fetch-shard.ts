import { DurableObject } from 'cloudflare:workers';
import { openR2Sink } from '../src/bodies/r2-sink';
import { rendererFor } from '../src/render/renderer-pool';
import type { ShardAssignment } from '../src/shard/protocol';
import { ShardRun } from '../src/shard/shard-run';

/** While a run is active the shard re-arms this alarm so the runtime keeps the object alive. */
const KEEPALIVE_MS = 30_000;
/** How long after a run starts its keep-alive alarm is first written (see start). */
const KEEPALIVE_DELAY_MS = 1_000;
/**
 * The keep-alive alarm holds nothing a crash could lose (the coordinator's run lease covers a
 * dead shard), so its write does not hold back the run's fetches and reports until it commits.
 */
const KEEPALIVE_WRITE = { allowUnconfirmed: true } as const;

/**
 * A fan-out worker of one job: runs one ShardRun at a time. It keeps no durable state of its
 * own; the coordinator's leases are what make a lost shard harmless.
 */
export class FetchShard extends DurableObject<Env> {
  #run: ShardRun | null = null;

  /** Starts (or keeps) the run named by the assignment; returns at once, the run goes on. */
  async start(a: ShardAssignment): Promise<void> {
    const current = this.#run;
    if (current && !current.finished && current.runId === a.runId) return;
    current?.abort();
    const bodies = this.env.BODIES;
    const openSink = a.storeBodies
      ? (contentType: string | null) => openR2Sink(bodies, a.jobId, contentType)
      : undefined;
    const renderer = a.render ? rendererFor(this.env, a.jobId) : undefined;
    const coordinator = this.env.JOB_COORDINATOR.getByName(a.jobId);
    const run = new ShardRun(a, coordinator, openSink, renderer);
    this.#run = run;
    // The run outlives this call: a Durable Object keeps one I/O context for all its work.
    void run.run().catch((err: unknown) => console.error('shard run crashed', err));
    // The keep-alive alarm is written a little later: the first write creates the object's
    // database, which would otherwise delay the run's first fetches.
    setTimeout(() => {
      if (this.#run !== run || run.finished) return;
      this.ctx.storage
        .setAlarm(Date.now() + KEEPALIVE_MS, KEEPALIVE_WRITE)
        .catch((err: unknown) => console.error('shard keep-alive alarm failed', err));
    }, KEEPALIVE_DELAY_MS);
  }

  /**
   * Aborts the run if it is still the one named (cancel, deadline, failFast); with no runId,
   * whatever runs. An aborted run reports nothing more, exactly as if the shard had died.
   */
  async abort(runId?: string): Promise<void> {
    if (runId === undefined || this.#run?.runId === runId) this.#run?.abort();
  }

  /** Whether the named run is still going here (the coordinator asks after its own restart). */
  async alive(runId: string): Promise<boolean> {
    return this.#run !== null && !this.#run.finished && this.#run.runId === runId;
  }

  /** Keep-alive only: re-arms while a run is active. */
  async alarm(): Promise<void> {
    if (this.#run && !this.#run.finished) {
      await this.ctx.storage.setAlarm(Date.now() + KEEPALIVE_MS, KEEPALIVE_WRITE);
    }
  }
}
