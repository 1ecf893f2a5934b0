// Streaming response bodies to stdout or to a file, with backpressure and never buffered whole.
import { once } from 'node:events';
import { open, rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';

/** The response body broke off (the connection closed, the server restarted) mid-way. */
export class StreamBroken extends Error {
  /**
   * @param {number} lines complete lines received before the break
   * @param {unknown} cause
   */
  constructor(lines, cause) {
    const why = /** @type {{ cause?: { message?: string } }} */ (cause)?.cause?.message;
    super(
      `the stream broke after ${lines} line${lines === 1 ? '' : 's'} (${why ?? String(cause)})`,
    );
    this.lines = lines;
  }
}

/**
 * Copies a body to a writable stream, waiting for it to drain; counts bytes and lines.
 * @param {AsyncIterable<Uint8Array>} body
 * @param {NodeJS.WritableStream} out
 */
export async function copyBody(body, out) {
  let bytes = 0;
  let lines = 0;
  const chunks = body[Symbol.asyncIterator]();
  for (;;) {
    /** @type {IteratorResult<Uint8Array>} */
    let next;
    try {
      next = await chunks.next();
    } catch (err) {
      throw new StreamBroken(lines, err);
    }
    if (next.done) return { bytes, lines };
    const chunk = next.value;
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    if (!out.write(chunk)) await once(out, 'drain');
  }
}

/**
 * Streams a body into `file` through `file.part`, renamed only once the body is complete, so a
 * broken download never leaves a file that looks whole.
 * @param {AsyncIterable<Uint8Array>} body
 * @param {string} file
 */
export async function downloadTo(body, file) {
  const part = `${file}.part`;
  const handle = await open(part, 'w');
  const out = handle.createWriteStream();
  /** @type {unknown} */
  let writeError;
  out.on('error', (err) => {
    writeError = err;
  });
  try {
    const counts = await copyBody(body, out);
    out.end();
    await finished(out);
    if (writeError) throw writeError;
    await rename(part, file);
    return counts;
  } catch (err) {
    const cause = writeError ?? err; // before destroy(), whose own complaints are not the story
    out.destroy();
    await rm(part, { force: true });
    throw cause;
  }
}
