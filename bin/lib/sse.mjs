// A minimal server-sent-events parser (the WHATWG event-stream format) over a fetch body.
// It keeps at most `maxBuffer` characters of an unfinished line or event, so a server that
// never sends a line break cannot make the client grow without bound.

/** @typedef {{ event: string, data: string, id: string | undefined }} SseEvent */

export const DEFAULT_MAX_BUFFER = 1024 * 1024;

export class SseError extends Error {}

export class SseParser {
  /** @param {{ maxBuffer?: number }} [options] */
  constructor(options = {}) {
    this.maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    /** The unfinished line carried over from the previous chunk. */
    this.partial = '';
    /** The previous chunk ended in CR: a LF starting the next one belongs to that line break. */
    this.skipLF = false;
    this.eventType = '';
    this.data = '';
    this.hasData = false;
    /** @type {string | undefined} */
    this.lastEventId = undefined;
  }

  /**
   * Feeds decoded text; returns the events completed by it.
   * @param {string} text
   * @returns {SseEvent[]}
   */
  push(text) {
    /** @type {SseEvent[]} */
    const out = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (this.skipLF) {
        this.skipLF = false;
        if (ch === 10) {
          start = i + 1;
          continue;
        }
      }
      if (ch === 10 || ch === 13) {
        const line = this.partial + text.slice(start, i);
        this.partial = '';
        this.line(line, out);
        this.skipLF = ch === 13;
        start = i + 1;
      }
    }
    this.partial += text.slice(start);
    if (this.partial.length + this.data.length > this.maxBuffer) {
      throw new SseError(`event stream: an event is over ${this.maxBuffer} characters`);
    }
    return out;
  }

  /**
   * @param {string} line
   * @param {SseEvent[]} out
   */
  line(line, out) {
    if (line === '') {
      if (this.hasData) {
        out.push({ event: this.eventType || 'message', data: this.data, id: this.lastEventId });
      }
      this.eventType = '';
      this.data = '';
      this.hasData = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') {
      this.data = this.hasData ? `${this.data}\n${value}` : value;
      this.hasData = true;
      if (this.data.length > this.maxBuffer) {
        throw new SseError(`event stream: an event is over ${this.maxBuffer} characters`);
      }
    } else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    // `retry` and unknown fields are ignored: reconnection is the caller's business.
  }
}

/**
 * Yields the events of an event stream (e.g. `response.body`). An event left unfinished when
 * the stream ends is dropped, as the format requires.
 * @param {AsyncIterable<Uint8Array>} body
 * @param {{ maxBuffer?: number }} [options]
 * @returns {AsyncGenerator<SseEvent>}
 */
export async function* readSse(body, options) {
  const parser = new SseParser(options);
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) {
    yield* parser.push(decoder.decode(chunk, { stream: true }));
  }
  yield* parser.push(decoder.decode());
}
