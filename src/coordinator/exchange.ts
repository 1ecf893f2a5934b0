import { ABORT, type ExchangeReply, type ExchangeRequest, STOP } from '../shard/protocol';
import type { Job } from './job';

/** What a shard's call needs of the coordinator around the job. */
export interface ExchangeHost {
  leaseMs: number;
  /** Runs `fn` in one storage transaction. */
  transact: (fn: () => void) => void;
  /** Starts runs for the shards that have none (a retiring run is replaced this way). */
  startRuns: (now: number) => void;
}

/**
 * A shard run's call: takes its finished outcomes, hands out more URLs. An idle run's call is
 * held (up to a quarter of the lease) while work exists that cannot be handed out yet.
 */
export function exchange(
  job: Job,
  req: ExchangeRequest,
  host: ExchangeHost,
): ExchangeReply | Promise<ExchangeReply> {
  const run = job.book.current(req.shardIdx, req.runId);
  if (!run || job.record.ending) return ABORT;
  const { record, book, counts } = job;
  if (record.terminal) return { items: [], stop: true, abort: record.status !== 'completed' };
  const now = Date.now();
  run.leaseUntil = now + host.leaseMs;
  if (req.started?.length) book.markStarted(req.shardIdx, req.started);
  if (req.outcomes.length > 0) {
    let failure: string | null = null;
    host.transact(() => {
      failure = job.apply(req.shardIdx, req.outcomes, now);
    });
    if (failure !== null) {
      void job.ending.end({ status: 'failed', kind: 'cancelled', message: failure });
      return ABORT;
    }
    if (job.finishIfDone()) return STOP;
  }
  const want = book.allowance(req.shardIdx, req.want);
  const items = want > 0 ? book.handOut(req.shardIdx, want, now) : [];
  book.serveParked(now);
  const idle = req.inflight === 0 && req.queued === 0;
  if (items.length > 0 || !idle) return book.reply(items, req.want, now);
  if (req.retiring) {
    // The run spent its subrequest budget: replace it with a fresh invocation.
    book.stopRun(req.shardIdx);
    host.startRuns(now);
    return STOP;
  }
  if (counts.pending > 0) return book.park(req);
  book.stopRun(req.shardIdx);
  return STOP;
}
