import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSse, SseError, SseParser } from '../../bin/lib/sse.mjs';

/** Feeds `text` to a fresh parser split at every position in `cuts`. */
function parseIn(text, cuts = []) {
  const p = new SseParser();
  const events = [];
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    events.push(...p.push(text.slice(at, cut)));
    at = cut;
  }
  return events;
}

describe('SseParser', () => {
  it('parses named events with JSON data', () => {
    const text = 'event: progress\ndata: {"a":1}\n\nevent: end\ndata: {"a":2}\n\n';
    assert.deepEqual(parseIn(text), [
      { event: 'progress', data: '{"a":1}', id: undefined },
      { event: 'end', data: '{"a":2}', id: undefined },
    ]);
  });

  it('gives the same events however the stream is split', () => {
    const text = 'event: progress\r\ndata: x\r\n\r\nid: 7\ndata: y\rdata: z\r\r';
    const whole = parseIn(text);
    assert.deepEqual(whole, [
      { event: 'progress', data: 'x', id: undefined },
      { event: 'message', data: 'y\nz', id: '7' },
    ]);
    for (let i = 1; i < text.length; i++) {
      assert.deepEqual(parseIn(text, [i]), whole, `split at ${i}`);
    }
    const everyChar = [...text].map((_, i) => i + 1).slice(0, -1);
    assert.deepEqual(parseIn(text, everyChar), whole);
  });

  it('treats CR LF split across chunks as one line break', () => {
    assert.deepEqual(parseIn('data: a\r\n\r\n', [8]), [
      { event: 'message', data: 'a', id: undefined },
    ]);
  });

  it('ignores comments, unknown fields and retry; strips one leading space only', () => {
    const text = ': keep-alive\nretry: 100\nfoo: bar\ndata:  two spaces\ndata\n\n';
    assert.deepEqual(parseIn(text), [{ event: 'message', data: ' two spaces\n', id: undefined }]);
  });

  it('does not dispatch an event without data, and resets the type', () => {
    assert.deepEqual(parseIn('event: progress\n\ndata: x\n\n'), [
      { event: 'message', data: 'x', id: undefined },
    ]);
  });

  it('drops an event left unfinished at the end', () => {
    assert.deepEqual(parseIn('data: a\n\ndata: b\n'), [
      { event: 'message', data: 'a', id: undefined },
    ]);
  });

  it('bounds the buffer: a line that never ends throws', () => {
    const p = new SseParser({ maxBuffer: 100 });
    p.push('data: ');
    assert.throws(() => p.push('x'.repeat(200)), SseError);
  });

  it('bounds the buffer: many data lines of one event throw', () => {
    const p = new SseParser({ maxBuffer: 100 });
    assert.throws(() => {
      for (let i = 0; i < 50; i++) p.push('data: 0123456789\n');
    }, SseError);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 split inside a character and yields events', async () => {
    const bytes = new TextEncoder().encode('event: end\ndata: "Việt"\n\n');
    const cut = bytes.indexOf(0xe1) + 1; // inside the 3-byte "ệ"
    async function* body() {
      yield bytes.subarray(0, cut);
      yield bytes.subarray(cut);
    }
    const events = [];
    for await (const ev of readSse(body())) events.push(ev);
    assert.deepEqual(events, [{ event: 'end', data: '"Việt"', id: undefined }]);
  });
});
