import type { BodySink } from '../fetch/body-sink';
import { bodyKey, SHA256_HEX, tempKey } from './keys';

/** R2's least size of a multipart upload's part (all but the last): the most one body holds. */
export const PART_SIZE = 5 * 1024 * 1024;
/** The buffer starts this small and doubles up to PART_SIZE, so small pages stay small. */
const FIRST_BUFFER = 64 * 1024;

/**
 * A sink that keeps a job's page body in R2 under `<job id>/<sha256 hex>` (src/bodies/keys.ts),
 * with the page's Content-Type. R2 takes a stream only with a known length and the key needs
 * the hash, known only at the end, so the body is buffered up to one part: a body that fits is
 * one put at close. A larger one goes part by part into a multipart upload under a temporary
 * key, which close completes, copies to its final key (a get's body has a known length) unless
 * that key exists already (the same page twice in a job), and deletes. Every put names the
 * hash, so R2 refuses bytes that do not match it.
 */
export function openR2Sink(bucket: R2Bucket, jobId: string, contentType: string | null): BodySink {
  return new R2BodySink(bucket, jobId, contentType);
}

class R2BodySink implements BodySink {
  readonly #bucket: R2Bucket;
  readonly #jobId: string;
  readonly #httpMetadata: R2HTTPMetadata;
  #tmpKey: string | null = null;
  #buf = new Uint8Array(0);
  /** Bytes of `#buf` in use: the body's bytes not yet in an uploaded part. */
  #len = 0;
  #upload: R2MultipartUpload | null = null;
  #parts: R2UploadedPart[] = [];
  /** Each operation starts after the one before: an abort may come while a write still runs. */
  #tail: Promise<unknown> = Promise.resolve();
  /** close or abort was called; anything after is refused (close) or ignored (abort). */
  #ended = false;
  /** A write failed and everything was dropped: a later close must not store a partial body. */
  #failed = false;

  constructor(bucket: R2Bucket, jobId: string, contentType: string | null) {
    this.#bucket = bucket;
    this.#jobId = jobId;
    this.#httpMetadata = contentType ? { contentType } : {};
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#ended) return Promise.reject(new Error('body sink: write after the end'));
    return this.#serial(async () => {
      if (this.#failed) throw new Error('body sink: an earlier write failed');
      try {
        await this.#append(chunk);
      } catch (err) {
        this.#failed = true;
        await this.#drop();
        throw err;
      }
    });
  }

  close(sha256Hex: string): Promise<void> {
    if (this.#ended) return Promise.reject(new Error('body sink: already closed or aborted'));
    this.#ended = true;
    return this.#serial(async () => {
      if (this.#failed) throw new Error('body sink: an earlier write failed');
      if (!SHA256_HEX.test(sha256Hex)) throw new Error('body sink: not a lowercase hex SHA-256');
      try {
        await this.#store(bodyKey(this.#jobId, sha256Hex), sha256Hex);
      } catch (err) {
        await this.#drop();
        throw err;
      } finally {
        this.#release();
      }
    });
  }

  abort(_reason: unknown): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#ended = true;
    return this.#serial(() => this.#drop());
  }

  #serial(op: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(op);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Copies the chunk in (the caller may reuse it), uploading each part as it fills. */
  async #append(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.byteLength) {
      // A full part is uploaded only once more bytes come: a body of exactly one part is one put.
      if (this.#len === PART_SIZE) await this.#uploadPart();
      const n = Math.min(chunk.byteLength - off, PART_SIZE - this.#len);
      this.#reserve(this.#len + n);
      this.#buf.set(chunk.subarray(off, off + n), this.#len);
      this.#len += n;
      off += n;
    }
  }

  #reserve(need: number): void {
    if (need <= this.#buf.byteLength) return;
    let size = Math.max(FIRST_BUFFER, this.#buf.byteLength * 2);
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(size, PART_SIZE));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  async #uploadPart(): Promise<void> {
    if (!this.#upload) {
      this.#tmpKey = tempKey(this.#jobId);
      const options = { httpMetadata: this.#httpMetadata };
      this.#upload = await this.#bucket.createMultipartUpload(this.#tmpKey, options);
    }
    const part = await this.#upload.uploadPart(
      this.#parts.length + 1,
      this.#buf.subarray(0, this.#len),
    );
    this.#parts.push(part);
    this.#len = 0;
  }

  async #store(key: string, sha256: string): Promise<void> {
    const options: R2PutOptions = { httpMetadata: this.#httpMetadata, sha256 };
    if (!this.#upload) {
      await this.#bucket.put(key, this.#buf.subarray(0, this.#len), options);
      return;
    }
    if (this.#len > 0) await this.#uploadPart();
    this.#release();
    await this.#upload.complete(this.#parts);
    // Completed: nothing left to abort; the temporary object is deleted below instead.
    this.#upload = null;
    const tmpKey = this.#tmpKey ?? '';
    try {
      if (await this.#bucket.head(key)) return;
      const assembled = await this.#bucket.get(tmpKey);
      if (!assembled) throw new Error('body sink: the assembled body is gone');
      await this.#bucket.put(key, assembled.body, options);
    } finally {
      // A temporary object left behind is under the job's prefix: deleted with the job.
      await this.#bucket.delete(tmpKey).catch((err: unknown) => {
        console.error('body sink: deleting the temporary object failed', err);
      });
    }
  }

  /** Drops what was written: the buffer, and the multipart upload if one was begun. */
  async #drop(): Promise<void> {
    this.#release();
    const upload = this.#upload;
    this.#upload = null;
    this.#parts = [];
    if (!upload) return;
    await upload.abort().catch((err: unknown) => {
      console.error('body sink: aborting the multipart upload failed', err);
    });
  }

  #release(): void {
    this.#buf = new Uint8Array(0);
    this.#len = 0;
  }
}
