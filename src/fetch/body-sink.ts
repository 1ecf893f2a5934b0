/**
 * Where a page's body goes besides the parser, when a job stores bodies (`store.bodies`). The
 * fetch hands it the decoded body chunk by chunk as it reads, awaiting each write (so a slow
 * sink slows the read, never buffers it), then closes it with the body's SHA-256 once the body
 * was read whole, or aborts it when it was not (too large, timeout, cancel, a failed read).
 * Exactly one of close or abort is called, once.
 */
export interface BodySink {
  write(chunk: Uint8Array): Promise<void>;
  /** `sha256Hex`: lowercase hex SHA-256 of every byte written. Resolves once the body is kept. */
  close(sha256Hex: string): Promise<void>;
  /** Drops whatever was written; never rejects. */
  abort(reason: unknown): Promise<void>;
}

/** Opens a sink for one 2xx HTML body (its Content-Type given), or null to store nothing. */
export type OpenBodySink = (contentType: string | null) => BodySink | null;
