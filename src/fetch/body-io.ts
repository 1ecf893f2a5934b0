// What every read of a body shares: its errors, its hash, and handing it to a sink.
import type { ErrorKind } from '../jobs/types';
import { toHex } from '../lib/hex';
import type { BodySink } from './body-sink';

/**
 * A body failure whose kind is known where it happened (too large, unparseable charset, a sink
 * that could not store it).
 */
export class BodyError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Cancels a body or reader without waiting, ignoring a failure to cancel. */
export function cancelQuietly(
  target: { cancel(reason?: unknown): Promise<void> } | null | undefined,
): void {
  void target?.cancel().catch(() => undefined);
}

/** The message of a thrown value, or its name when the message is empty. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

export function tooLargeError(maxBytes: number, bytes: number): BodyError {
  return new BodyError('too_large', `body exceeds maxBytes (${maxBytes}): read ${bytes} bytes`);
}

/** A sink's write or close failed (or opening one threw): retried like a network error. */
export function storeError(reason: unknown): BodyError {
  return new BodyError('network', `could not store the body: ${errorMessage(reason)}`);
}

/** Settles like `promise`, but rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Lowercase hex SHA-256 of no bytes: the hash of a response without a body. */
export const EMPTY_SHA256_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Lowercase hex SHA-256 of a body read whole. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', bytes));
}

/**
 * SHA-256 of a body fed chunk by chunk as it is read, without holding it. Writes are not
 * awaited: a WritableStream processes them one at a time in the order they were made, and
 * `hex()` waits for all of them. A chunk written while an earlier one is being hashed is held
 * by reference until its turn, so a chunk must not change after `update` (body chunks are
 * fresh buffers nobody writes to).
 */
export class StreamHash {
  readonly #stream = new crypto.DigestStream('SHA-256');
  readonly #writer = this.#stream.getWriter();

  update(chunk: Uint8Array): void {
    // A DigestStream errors only when aborted, which nothing does: no rejection to handle.
    void this.#writer.write(chunk);
  }

  /** The hex digest of every chunk given; call once, after the last update. */
  async hex(): Promise<string> {
    await this.#writer.close();
    return toHex(await this.#stream.digest);
  }
}

/**
 * Settles with `step` (a sink's write or close), bounded by the fetch's signal: an abort
 * rejects with its reason (the fetch's timeout covers the sink too), a failure of the sink
 * (a rejection or a throw) with storeError.
 */
export async function sinkStep(step: () => Promise<void>, signal: AbortSignal): Promise<void> {
  try {
    await raceAbort(step(), signal);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw storeError(err);
  }
}

/** Hands one chunk of the body to the sink; see sinkStep. */
export function storeChunk(sink: BodySink, chunk: Uint8Array, signal: AbortSignal): Promise<void> {
  return sinkStep(() => sink.write(chunk), signal);
}

/**
 * What a streamed HTML read feeds besides the parser: the body's hash, and a sink when one is
 * open. A sink that fails mid-stream is kept in `failed`, for the reader to throw once the
 * parser is done with the body.
 */
export class StreamTap {
  readonly hash = new StreamHash();
  readonly sink: BodySink | null;
  readonly #signal: AbortSignal;
  failed: BodyError | null = null;

  constructor(sink: BodySink | null, signal: AbortSignal) {
    this.sink = sink;
    this.#signal = signal;
  }

  /** Hands a chunk to the sink; false when the sink failed or the fetch was aborted meanwhile. */
  async stored(chunk: Uint8Array): Promise<boolean> {
    if (this.sink === null) return true;
    try {
      await storeChunk(this.sink, chunk, this.#signal);
      return true;
    } catch (err) {
      if (err instanceof BodyError) this.failed = err;
      return false;
    }
  }
}
