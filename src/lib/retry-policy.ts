/** HTTP statuses worth another attempt: timeouts, throttling and transient server errors. */
export const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Failure kinds that are transient by nature, whatever the status. */
const RETRYABLE_KINDS = new Set(['timeout', 'network']);

/** Whether a failed attempt may be retried; every kind not named here is final. */
export function isRetryable(outcome: { kind: string; status: number | null }): boolean {
  if (RETRYABLE_KINDS.has(outcome.kind)) return true;
  if (outcome.kind === 'http_status') {
    return outcome.status !== null && RETRYABLE_STATUSES.has(outcome.status);
  }
  return false;
}

/** Whether a status means the host wants us to slow down (so its concurrency is lowered). */
export function isThrottleSignal(status: number | null): boolean {
  return status === 429 || status === 503;
}
