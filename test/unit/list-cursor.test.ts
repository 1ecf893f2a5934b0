import { describe, expect, it } from 'vitest';
import { SCHEDULE_ID } from '../../src/lib/schedule-ids';
import { ApiError } from '../../src/middleware/errors';
import { nextListCursor, readListCursor } from '../../src/routes/paging';

const JOB_ID = /[0-9a-z]{1,40}/;

function refusal(fn: () => unknown): { code: string; message: string; status: number } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError)
      return { code: err.code, message: err.message, status: err.status };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('list cursors', () => {
  it('a full page gets the cursor of its last item: base64 of createdAt.id', () => {
    const last = { createdAt: 1_764_000_000_123, id: 'j0mw1abcdefghijklmnop' };
    const cursor = nextListCursor(last, 20, 20);
    expect(cursor).toBe(btoa('1764000000123.j0mw1abcdefghijklmnop'));
    expect(readListCursor(cursor ?? '', JOB_ID)).toEqual(last);
  });

  it('a page that is not full, or empty, has no next cursor', () => {
    expect(nextListCursor({ createdAt: 1, id: 'a' }, 19, 20)).toBeNull();
    expect(nextListCursor(undefined, 0, 20)).toBeNull();
  });

  it('no cursor (absent or empty) is the first page', () => {
    expect(readListCursor(undefined, JOB_ID)).toBeNull();
    expect(readListCursor('', JOB_ID)).toBeNull();
  });

  it('refuses garbage, other shapes and ids of another list with the same 400', () => {
    const scheduleCursor = btoa('1764000000123.s0mw1abcdefghijklmnopq');
    expect(readListCursor(scheduleCursor, SCHEDULE_ID)).toEqual({
      createdAt: 1_764_000_000_123,
      id: 's0mw1abcdefghijklmnopq',
    });
    const jobCursor = btoa('1764000000123.j0mw1abcdefghijklmnopq');
    for (const [raw, id] of [
      ['zzz', JOB_ID],
      ['!!not base64!!', JOB_ID],
      [btoa('s42'), JOB_ID],
      [btoa('12.'), JOB_ID],
      [btoa('1234567890123456.abc'), JOB_ID],
      [btoa('12.ABC'), JOB_ID],
      [jobCursor, SCHEDULE_ID],
      [btoa('1764000000123.s0mw1abcdefghijklmnopqx'), SCHEDULE_ID],
    ] as const) {
      expect(
        refusal(() => readListCursor(raw, id)),
        raw,
      ).toEqual({
        code: 'invalid_request',
        message: 'cursor: not a cursor from this API',
        status: 400,
      });
    }
  });
});
