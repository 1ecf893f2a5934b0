import type { FetchShard } from '../../durable-objects/fetch-shard';
import { DEFAULT_RENDER_CONCURRENCY } from '../jobs/schema';
import { randomToken } from '../lib/ids';
import type { ShardAssignment } from '../shard/protocol';
import type { Job } from './job';
import { firstBatch, runsToStart } from './policy';

/** A shard that failed to start is tried again this soon (by the alarm). */
const START_RETRY_MS = 1_000;

/** The coordinator's calls to its shards. */
export interface ShardPort {
  start(idx: number, assignment: ShardAssignment): Promise<void>;
  alive(idx: number, runId: string): Promise<boolean>;
  abort(idx: number, runId: string): Promise<void>;
}

/** The port to a job's shards (`jobId` is read at each call: the job is loaded later). */
export function shardPort(ns: DurableObjectNamespace<FetchShard>, jobId: () => string): ShardPort {
  const shard = (idx: number) => ns.getByName(`${jobId()}/${idx}`);
  return {
    start: (idx, a) => shard(idx).start(a),
    alive: (idx, runId) => shard(idx).alive(runId),
    abort: (idx, runId) => shard(idx).abort(runId),
  };
}

/** Settings of every run a job starts. */
interface RunSettings {
  allowPrivate: boolean;
  userAgent: string;
  wantAlarm: (at: number) => void;
}

/** Gives the thread's pending I/O a turn (see startInTurns). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Calls `starts` in order: the first at once, each next one after `pause`. Starting a shard
 * creates its object, which locally is synchronous work on this thread (its SQLite files);
 * issued all in one turn, every shard's first requests would wait until the last object
 * exists. One at a time, each shard's requests go out before the next object is made.
 */
export async function startInTurns(
  starts: ReadonlyArray<() => void>,
  pause: () => Promise<void> = nextTurn,
): Promise<void> {
  for (let i = 0; i < starts.length; i++) {
    if (i > 0) await pause();
    starts[i]?.();
  }
}

/**
 * Starts runs until every queued URL has a connection (up to the job's concurrency). A run's
 * first URLs come with its start, which saves it a round trip before its first fetch; a run
 * that fails to start gives them back, and the alarm tries again soon. Every run is booked and
 * handed its URLs in this turn (they commit together); the starts then go out one per turn.
 */
export async function startRuns(
  job: Job,
  port: ShardPort,
  settings: RunSettings,
  now: number,
): Promise<void> {
  const { book, counts, spec, hosts } = job;
  if (counts.queued <= 0 || job.record.ending) return;
  const queued = counts.queued;
  const runs = book.runs.map((r) => ({ slots: r.slots, running: r.runId !== null }));
  const started: Promise<void>[] = [];
  const starts = runsToStart(runs, queued).map((idx) => {
    const run = book.runs[idx];
    if (!run) return () => {};
    const runId = randomToken();
    book.startRun(idx, runId, now);
    const first = firstBatch(run.slots, queued, spec.concurrency);
    const assignment: ShardAssignment = {
      jobId: job.record.row.job_id,
      shardIdx: idx,
      runId,
      slots: run.slots,
      timeoutMs: spec.timeoutMs,
      maxBytes: spec.maxBytes,
      selectors: spec.extract.selectors,
      links: spec.extract.links === true,
      meta: spec.extract.meta === true,
      allowPrivate: settings.allowPrivate,
      userAgent: spec.userAgent ?? settings.userAgent,
      headers: spec.headers ?? {},
      storeBodies: spec.store?.bodies === true,
      ...(spec.render
        ? {
            render: spec.render,
            renderConcurrency: spec.renderConcurrency ?? DEFAULT_RENDER_CONCURRENCY,
          }
        : {}),
      heartbeatMs: Math.floor(job.book.leaseMs / 4),
      items: book.handOut(idx, book.allowance(idx, first), now),
      holds: hosts.holds(now),
    };
    return () => {
      // Between turns the job may have ended or the run been taken back: then it stays unstarted.
      if (run.runId !== runId || job.record.ending || job.record.terminal) return;
      const start = port.start(idx, assignment).catch((err: unknown) => {
        console.error(`shard ${idx} failed to start`, err);
        if (run.runId !== runId) return;
        book.takeBack(idx, Date.now());
        hosts.setInUse(job.store.outPerHost());
        settings.wantAlarm(Date.now() + START_RETRY_MS);
      });
      started.push(start);
    };
  });
  await startInTurns(starts);
  await Promise.all(started);
}

/**
 * After the coordinator restarts, asks each shard whose run it remembers whether that run
 * still goes on. A run lost with the process (a crash, a deploy) has its lease expired at once
 * rather than after SHARD_LEASE_MS; a shard that cannot be asked keeps its lease.
 */
export async function probeRuns(job: Job, port: ShardPort, now: number): Promise<void> {
  const checks = job.book.runs.map(async (run, idx) => {
    const runId = run.runId;
    if (runId === null) return;
    try {
      const alive = await port.alive(idx, runId);
      if (!alive && run.runId === runId) run.leaseUntil = now;
    } catch (err) {
      console.warn(`shard ${idx} could not be asked about run ${runId}`, err);
    }
  });
  await Promise.all(checks);
}
