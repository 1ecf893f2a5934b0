// Lines of an NDJSON body. At most `maxLine` characters of an unfinished line are held, so a
// body that never sends a line break cannot grow memory without bound.

/** Far above the largest Result (a URL, a title and 20 data fields of 2,000 characters each). */
export const MAX_LINE = 8 * 1024 * 1024;

/**
 * Yields each complete, non-empty line of `body` (without its line break); a last line without
 * a break is yielded too.
 * @param {AsyncIterable<Uint8Array>} body
 * @param {{ maxLine?: number }} [options]
 * @returns {AsyncGenerator<string>}
 */
export async function* ndjsonLines(body, options = {}) {
  const maxLine = options.maxLine ?? MAX_LINE;
  const decoder = new TextDecoder('utf-8');
  let partial = '';
  for await (const chunk of body) {
    const text = partial + decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    partial = /** @type {string} */ (lines.pop());
    for (const line of lines) if (line.trim() !== '') yield line;
    if (partial.length > maxLine) throw new Error(`an NDJSON line is over ${maxLine} characters`);
  }
  partial += decoder.decode();
  if (partial.trim() !== '') yield partial;
}
