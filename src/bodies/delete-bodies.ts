import { jobPrefix } from './keys';

/** R2 deletes at most this many keys in one call, and lists at most this many per page. */
const BATCH = 1000;

/**
 * Deletes every object under the job's prefix (its bodies, and temporary objects a failed
 * store left), one listed page at a time; returns how many. Each page's keys are deleted
 * before the next is listed, and the loop ends with the first page that is not truncated.
 * Multipart uploads never completed are not objects: R2 drops them on its own (7 days).
 */
export async function deleteBodies(
  bucket: R2Bucket,
  jobId: string,
  batch = BATCH,
): Promise<number> {
  const prefix = jobPrefix(jobId);
  let deleted = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await bucket.list({ prefix, cursor, limit: batch });
    const keys = page.objects.map((o) => o.key);
    if (keys.length > 0) await bucket.delete(keys);
    deleted += keys.length;
    if (!page.truncated) return deleted;
    cursor = page.cursor;
  }
}
