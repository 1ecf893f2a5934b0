// The R2 body sink and deleteBodies against the local R2 bucket (env.BODIES, from wrangler.toml).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { deleteBodies } from '../../src/bodies/delete-bodies';
import { bodyKey } from '../../src/bodies/keys';
import { openR2Sink, PART_SIZE } from '../../src/bodies/r2-sink';
import { toHex } from '../../src/lib/hex';
import { newJobId } from '../../src/lib/ids';

/** Deterministic bytes that differ from offset to offset (a misplaced chunk changes the hash). */
function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function sha256(data: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', data));
}

/** Writes `data` in chunks of `size` bytes, as a fetch would. */
async function writeAll(sink: ReturnType<typeof openR2Sink>, data: Uint8Array, size = 65_536) {
  for (let off = 0; off < data.byteLength; off += size) {
    await sink.write(data.subarray(off, off + size));
  }
}

async function keysUnder(jobId: string): Promise<string[]> {
  const listed = await env.BODIES.list({ prefix: `${jobId}/` });
  return listed.objects.map((o) => o.key).sort();
}

/** The bucket, with every call it gets recorded by name (the multipart upload's too). */
function recorded(bucket: R2Bucket): { bucket: R2Bucket; calls: string[] } {
  const calls: string[] = [];
  const wrapUpload = (up: R2MultipartUpload): R2MultipartUpload =>
    new Proxy(up, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`upload.${String(prop)}`);
          return value.apply(target, args);
        };
      },
    });
  const proxy = new Proxy(bucket, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        calls.push(String(prop));
        const out = await value.apply(target, args);
        return prop === 'createMultipartUpload' ? wrapUpload(out) : out;
      };
    },
  });
  return { bucket: proxy, calls };
}

describe('the R2 body sink', () => {
  it('keeps a small body under <job>/<sha256> with its content type, in one put', async () => {
    const job = newJobId();
    const body = bytes(200_000, 7);
    const { bucket, calls } = recorded(env.BODIES);
    const sink = openR2Sink(bucket, job, 'text/html; charset=utf-8');
    await writeAll(sink, body, 3000);
    const hash = await sha256(body);
    await sink.close(hash);
    expect(calls).toEqual(['put']);
    const obj = await env.BODIES.get(bodyKey(job, hash));
    expect(obj?.httpMetadata?.contentType).toBe('text/html; charset=utf-8');
    expect(new Uint8Array(await (obj as R2ObjectBody).arrayBuffer())).toEqual(body);
    expect(await keysUnder(job)).toEqual([`${job}/${hash}`]);
  });

  it('assembles a body of several parts byte for byte and leaves no temporary object', async () => {
    const job = newJobId();
    const body = bytes(2 * PART_SIZE + 12_345, 3);
    const { bucket, calls } = recorded(env.BODIES);
    const sink = openR2Sink(bucket, job, 'text/html');
    // Odd-sized chunks, so parts are cut in the middle of a chunk.
    await writeAll(sink, body, 100_003);
    const hash = await sha256(body);
    await sink.close(hash);
    expect(calls).toEqual([
      'createMultipartUpload',
      'upload.uploadPart',
      'upload.uploadPart',
      'upload.uploadPart',
      'upload.complete',
      'head',
      'get',
      'put',
      'delete',
    ]);
    const obj = await env.BODIES.get(bodyKey(job, hash));
    expect(obj?.size).toBe(body.byteLength);
    expect(obj?.httpMetadata?.contentType).toBe('text/html');
    expect(await sha256(new Uint8Array(await (obj as R2ObjectBody).arrayBuffer()))).toBe(hash);
    expect(await keysUnder(job)).toEqual([`${job}/${hash}`]);
  });

  it('keeps a body of exactly one part in one put', async () => {
    const job = newJobId();
    const body = bytes(PART_SIZE, 5);
    const { bucket, calls } = recorded(env.BODIES);
    const sink = openR2Sink(bucket, job, null);
    await writeAll(sink, body);
    const hash = await sha256(body);
    await sink.close(hash);
    expect(calls).toEqual(['put']);
    const obj = await env.BODIES.head(bodyKey(job, hash));
    expect(obj?.size).toBe(PART_SIZE);
    expect(obj?.httpMetadata?.contentType).toBeUndefined();
  });

  it('skips the copy when the job already holds the same body', async () => {
    const job = newJobId();
    const body = bytes(PART_SIZE + 1, 9);
    const hash = await sha256(body);
    const first = openR2Sink(env.BODIES, job, 'text/html');
    await writeAll(first, body);
    await first.close(hash);
    const { bucket, calls } = recorded(env.BODIES);
    const second = openR2Sink(bucket, job, 'text/html');
    await writeAll(second, body);
    await second.close(hash);
    expect(calls.slice(-2)).toEqual(['head', 'delete']);
    expect(await keysUnder(job)).toEqual([`${job}/${hash}`]);
  });

  it('keeps an empty body', async () => {
    const job = newJobId();
    const sink = openR2Sink(env.BODIES, job, 'text/html');
    const hash = await sha256(new Uint8Array(0));
    await sink.close(hash);
    expect((await env.BODIES.head(bodyKey(job, hash)))?.size).toBe(0);
  });

  it('keeps the bytes as written even when the caller reuses its buffer', async () => {
    const job = newJobId();
    const chunk = new Uint8Array(1000).fill(1);
    const sink = openR2Sink(env.BODIES, job, 'text/html');
    await sink.write(chunk);
    chunk.fill(2);
    await sink.write(chunk);
    chunk.fill(3);
    const expected = new Uint8Array(2000);
    expected.fill(1, 0, 1000);
    expected.fill(2, 1000);
    const hash = await sha256(expected);
    await sink.close(hash);
    const obj = (await env.BODIES.get(bodyKey(job, hash))) as R2ObjectBody;
    expect(new Uint8Array(await obj.arrayBuffer())).toEqual(expected);
  });

  it('refuses a hash the bytes do not have, small or assembled, and keeps nothing', async () => {
    for (const size of [1000, PART_SIZE + 10]) {
      const job = newJobId();
      const sink = openR2Sink(env.BODIES, job, 'text/html');
      await writeAll(sink, bytes(size, 11));
      await expect(sink.close('0'.repeat(64))).rejects.toThrow();
      expect(await keysUnder(job)).toEqual([]);
    }
  });

  it('refuses a close whose hash is not lowercase hex', async () => {
    const job = newJobId();
    const sink = openR2Sink(env.BODIES, job, 'text/html');
    await sink.write(bytes(10));
    await expect(sink.close('../other-job/x')).rejects.toThrow(/hex/);
    expect(await keysUnder(job)).toEqual([]);
  });

  it('abort drops a multipart upload under way and stores nothing', async () => {
    const job = newJobId();
    const { bucket, calls } = recorded(env.BODIES);
    const sink = openR2Sink(bucket, job, 'text/html');
    await writeAll(sink, bytes(PART_SIZE + 100));
    await sink.abort(new Error('too large'));
    expect(calls).toEqual(['createMultipartUpload', 'upload.uploadPart', 'upload.abort']);
    expect(await keysUnder(job)).toEqual([]);
    // Exactly one end: a second abort is ignored, a write or close after it refused.
    await sink.abort('again');
    await expect(sink.write(bytes(1))).rejects.toThrow();
    await expect(sink.close('a'.repeat(64))).rejects.toThrow();
    expect(calls).toHaveLength(3);
  });

  it('a failed write drops what was written, and a close after it fails too', async () => {
    const job = newJobId();
    const failing = new Proxy(env.BODIES, {
      get(target, prop) {
        if (prop === 'createMultipartUpload') return () => Promise.reject(new Error('R2 down'));
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const sink = openR2Sink(failing, job, 'text/html');
    const body = bytes(PART_SIZE + 1);
    await expect(writeAll(sink, body)).rejects.toThrow('R2 down');
    await expect(sink.close(await sha256(body))).rejects.toThrow(/earlier write/);
    expect(await keysUnder(job)).toEqual([]);
  });
});

describe('deleteBodies', () => {
  it('deletes every object under the job, page after page, and only those', async () => {
    const job = newJobId();
    const other = newJobId();
    for (let i = 0; i < 5; i++) await env.BODIES.put(`${job}/${i}`, `body ${i}`);
    await env.BODIES.put(`${job}/tmp/leftover`, 'x');
    await env.BODIES.put(`${other}/kept`, 'y');
    // Pages of two keys: the listing is truncated twice before the last page.
    expect(await deleteBodies(env.BODIES, job, 2)).toBe(6);
    expect(await keysUnder(job)).toEqual([]);
    expect(await keysUnder(other)).toEqual([`${other}/kept`]);
    expect(await deleteBodies(env.BODIES, job)).toBe(0);
  });
});
