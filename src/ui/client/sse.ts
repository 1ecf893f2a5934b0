/**
 * Browser code: server-sent events read with fetch(), since EventSource cannot send the
 * Authorization header. The parser follows the WHATWG event-stream format like the CLI's
 * (bin/lib/sse.mjs) and keeps at most MAX_SSE_BUFFER characters of an unfinished event.
 */
export const SSE_JS = String.raw`
const MAX_SSE_BUFFER = 1048576;

class SseParser {
  constructor() {
    this.partial = '';
    this.skipLF = false;
    this.eventType = '';
    this.data = '';
    this.hasData = false;
  }

  /** Feeds decoded text; returns the events it completed, as {event, data}. */
  push(text) {
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
        this.line(this.partial + text.slice(start, i), out);
        this.partial = '';
        this.skipLF = ch === 13;
        start = i + 1;
      }
    }
    this.partial += text.slice(start);
    if (this.partial.length + this.data.length > MAX_SSE_BUFFER) {
      throw new Error('event stream: an event is too large');
    }
    return out;
  }

  line(line, out) {
    if (line === '') {
      if (this.hasData) out.push({ event: this.eventType || 'message', data: this.data });
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
      this.data = this.hasData ? this.data + '\n' + value : value;
      this.hasData = true;
    }
  }
}

/** Reads one event stream response to its end, calling onEvent(name, data) per event. */
async function readEventStream(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
        onEvent(ev.event, JSON.parse(ev.data));
        if (ev.event === 'end') return true;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Follows an event stream until its 'end' event, reconnecting (with backoff) when it drops:
 * the server closes a stream after 15 minutes, and networks fail. A 4xx answer is final.
 * onState is told 'connecting', 'live', 'reconnecting' and 'ended'.
 */
async function followEvents(path, onEvent, onState, signal) {
  let failures = 0;
  while (!signal.aborted) {
    onState(failures === 0 ? 'connecting' : 'reconnecting');
    try {
      const res = await api(path, { signal, headers: { accept: 'text/event-stream' } });
      if (!res.ok) throw await errorOf(res);
      onState('live');
      if (await readEventStream(res, onEvent)) {
        onState('ended');
        return;
      }
      failures = 0;
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw err;
      failures++;
    }
    await sleep(Math.min(10000, 500 * 2 ** Math.min(failures, 5)), signal);
  }
}
`;
