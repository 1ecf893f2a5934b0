import { URL_STATE } from './url-store';

/** Where a settled URL is counted in a job's view. */
type Settlement = 'succeeded' | 'failed' | 'cancelled';
/** Where an unsettled URL is counted. */
type Pending = 'queued' | 'out' | 'retrying';
type Bucket = Pending | Settlement;

/**
 * The one rule for counting a Result: ok is succeeded; an error the job gave (cancel,
 * deadline) is cancelled; any other error is failed.
 */
export function settlementOf(ok: boolean, kind: string | null | undefined): Settlement {
  if (ok) return 'succeeded';
  return kind === 'cancelled' || kind === 'deadline' ? 'cancelled' : 'failed';
}

/** The bucket of an unsettled URL state (see URL_STATE); null for settled. */
export function pendingOf(state: number): Pending | null {
  if (state === URL_STATE.queued) return 'queued';
  if (state === URL_STATE.out) return 'out';
  if (state === URL_STATE.retrying) return 'retrying';
  return null;
}

/**
 * A job's URLs per bucket, kept in memory beside the tables (rebuilt from them at load). Every
 * change is a move: `null` on one side stands for "not counted here" (a URL decided but whose
 * Result is not written yet, or one whose Result turned out written already).
 */
export class UrlCounts {
  queued = 0;
  out = 0;
  retrying = 0;
  succeeded = 0;
  failed = 0;
  cancelled = 0;

  /** Moves `n` URLs from one bucket to another. */
  move(from: Bucket | null, to: Bucket | null, n = 1): void {
    if (n === 0 || from === to) return;
    if (from !== null) this[from] -= n;
    if (to !== null) this[to] += n;
  }

  /** URLs with their Result. */
  get settled(): number {
    return this.succeeded + this.failed + this.cancelled;
  }

  /** URLs still waiting for a Result somewhere: queued, out or retrying. */
  get pending(): number {
    return this.queued + this.out + this.retrying;
  }
}
