/**
 * A body read as UTF-8 text, counted in bytes as it arrives, and cut once `limit` bytes are
 * in: the chunk that reaches the limit is kept, nothing after it is read (so memory stays
 * bounded whatever the body declares). `cut` says whether reading stopped there.
 */
export async function readTextUpTo(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ text: string; cut: boolean }> {
  if (body === null) return { text: '', cut: false };
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), cut: false };
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (bytes >= limit) {
      await reader.cancel();
      return { text: text + decoder.decode(), cut: true };
    }
  }
}
