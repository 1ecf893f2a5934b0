import { redirectLocation } from '../fetch/redirect';
import type { JobChanges, JobSpec, JobView } from '../jobs/types';
import { backoffDelayMs } from '../lib/backoff';
import { toHex } from '../lib/hex';
import type { JobRecord } from './job-record';

const CALLBACK_MAX_ATTEMPTS = 5;
const CALLBACK_TIMEOUT_MS = 10_000;

/** Signs a body with HMAC-SHA256 so a receiver can check it came from us. */
export async function signBody(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body));
  return toHex(mac);
}

/** The one event a job's callback reports: the job reached a terminal status. */
export const CALLBACK_EVENT = 'job.completed';

/**
 * The headers that sign one delivery attempt: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 * "<t>.<body>")>`. The timestamp is inside the MAC, so a receiver that refuses old timestamps
 * cannot be fed a captured delivery later; an empty secret sends the body unsigned.
 */
export async function signatureHeader(
  secret: string,
  body: string,
  nowMs: number = Date.now(),
): Promise<string> {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${await signBody(secret, `${t}.${body}`)}`;
}

/**
 * The delivery id of a job's completion event: derived from the job id alone, so every retry of
 * the event (even after a restart of the coordinator) carries the same id and a receiver can
 * drop duplicates by it.
 */
export function deliveryId(jobId: string): string {
  return `${jobId}.${CALLBACK_EVENT}`;
}

/** Redirects a callback follows at most. */
const MAX_CALLBACK_REDIRECTS = 5;

/**
 * POSTs a terminal job's status to its callbackUrl; true when the receiver answered 2xx.
 * Each attempt is signed anew (a fresh timestamp), with the same delivery id. Redirects are followed by hand, the body and signature sent again to each hop, and every hop
 * goes through the SSRF guard `isBlocked` first: a hop into blocked space fails the attempt
 * without a connection.
 */
async function deliverCallback(
  url: string,
  view: JobView,
  secret: string | undefined,
  isBlocked: ((url: URL) => boolean) | undefined,
): Promise<boolean> {
  const body = JSON.stringify(view);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-scrape-fanout-event': CALLBACK_EVENT,
    'x-scrape-fanout-delivery': deliveryId(view.id),
  };
  if (secret) headers['x-scrape-fanout-signature'] = await signatureHeader(secret, body);
  const signal = AbortSignal.timeout(CALLBACK_TIMEOUT_MS);
  try {
    let target = new URL(url);
    for (let hop = 0; hop <= MAX_CALLBACK_REDIRECTS; hop++) {
      if (isBlocked?.(target)) return false;
      const res = await fetch(target.href, {
        method: 'POST',
        headers,
        body,
        signal,
        redirect: 'manual',
      });
      await res.body?.cancel();
      const next = redirectLocation(res, target);
      if (next === null) return res.ok;
      target = next;
    }
    return false;
  } catch {
    return false;
  }
}

/**
 * Whether a terminal job sends its callback: always, unless it asked for `notify: "changes"`
 * and was compared with another job without finding a change, a new URL or a gone one.
 */
export function callbackWanted(
  spec: Pick<JobSpec, 'callbackUrl' | 'notify'>,
  changes: JobChanges | null,
): boolean {
  if (!spec.callbackUrl) return false;
  if (spec.notify !== 'changes' || changes === null) return true;
  return changes.changed + changes.new + changes.gone > 0;
}

/** Delivery state of a job's callback: `pending:<attempts so far>`, then delivered or failed. */
export const CALLBACK_DUE = 'pending:0';

/** The state after one delivery attempt (`attempt` counts it). */
export function nextCallbackState(attempt: number, delivered: boolean): string {
  if (delivered) return 'delivered';
  return attempt >= CALLBACK_MAX_ATTEMPTS ? 'failed' : `pending:${attempt}`;
}

/** The attempt a state says comes next, or null when nothing is to be sent. */
export function callbackAttempt(state: string | null): number | null {
  if (!state?.startsWith('pending:')) return null;
  return Number(state.slice('pending:'.length)) + 1;
}

/** How long after a failed attempt the next one is made. */
export function callbackRetryDelayMs(attempt: number): number {
  return backoffDelayMs(attempt, { baseDelayMs: 2_000, maxDelayMs: 60_000 });
}

/**
 * Makes the callback attempt a terminal job's record says is due, if any, and records how it
 * went. Returns when to try again, or null when nothing more is to be sent.
 */
export async function deliverDueCallback(
  record: JobRecord,
  view: () => JobView,
  secret: string | undefined,
  isBlocked: ((url: URL) => boolean) | undefined,
): Promise<number | null> {
  const url = record.spec.callbackUrl;
  const attempt = callbackAttempt(record.row.callback_state);
  if (!url || attempt === null) return null;
  const ok = await deliverCallback(url, view(), secret, isBlocked);
  const next = nextCallbackState(attempt, ok);
  record.setCallbackState(next);
  return callbackAttempt(next) === null ? null : Date.now() + callbackRetryDelayMs(attempt);
}
