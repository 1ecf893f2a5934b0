import { exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/jobs/schema';
import type { JobView } from '../../src/jobs/types';
import type { ScheduleView } from '../../src/schedules/types';
import { api, getJob, origin, submit, tag } from '../support/api';
import { until } from '../support/time';

interface Envelope {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** An id isJobId accepts that no job has. */
const UNKNOWN_JOB = 'j000000000abcdefabcdef';

function patch(id: string, body: string, headers?: HeadersInit): Promise<Response> {
  return api(`/v1/jobs/${id}`, { method: 'PATCH', body, headers });
}

async function envelope(res: Response): Promise<{ status: number; error: Envelope['error'] }> {
  return { status: res.status, error: ((await res.json()) as Envelope).error };
}

/** A job whose URLs hang, so it stays running (with a deadline) until the test cancels it. */
async function runningJob(): Promise<JobView> {
  const t = tag('patch');
  const urls = [origin(`/hang?tag=${t}&i=0`), origin(`/hang?tag=${t}&i=1`)];
  const job = await submit({ urls, timeoutMs: 60_000, deadlineMs: 600_000 });
  return getJob(job.id);
}

const jobsToCancel: string[] = [];
const schedulesToDelete: string[] = [];

afterEach(async () => {
  for (const id of jobsToCancel.splice(0)) await api(`/v1/jobs/${id}`, { method: 'DELETE' });
  for (const id of schedulesToDelete.splice(0)) {
    await api(`/v1/schedules/${id}`, { method: 'DELETE' });
  }
});

describe('PATCH /v1/jobs/:id', () => {
  it('answers 404 in the envelope for a well-formed id that names no job', async () => {
    expect(await envelope(await patch(UNKNOWN_JOB, '{"deadlineMs": 5000}'))).toEqual({
      status: 404,
      error: { code: 'not_found', message: 'no such job' },
    });
  });

  it('answers 400 for a body that is not JSON, with the parser message', async () => {
    const text = '{"deadlineMs": ';
    let parserMessage = '';
    try {
      JSON.parse(text);
    } catch (err) {
      parserMessage = (err as Error).message;
    }
    expect(parserMessage).not.toBe('');
    expect(await envelope(await patch(UNKNOWN_JOB, text))).toEqual({
      status: 400,
      error: { code: 'invalid_request', message: `body is not valid JSON: ${parserMessage}` },
    });
  });

  it('answers 400 naming an unknown field, and changes nothing', async () => {
    const job = await runningJob();
    jobsToCancel.push(job.id);
    const res = await patch(job.id, '{"deadlineMs": 5000, "deadline": 1}');
    expect(await envelope(res)).toEqual({
      status: 400,
      error: {
        code: 'invalid_request',
        message: '(body): unknown field(s) deadline',
        details: [{ path: '(body)', message: 'unknown field(s) deadline' }],
      },
    });
    expect((await getJob(job.id)).deadlineAt).toBe(job.deadlineAt);
  });

  it('answers 415 unless the body is sent as application/json', async () => {
    const expected = {
      status: 415,
      error: {
        code: 'unsupported_media_type',
        message: 'send the deadline change as Content-Type: application/json',
      },
    };
    const asText = await patch(UNKNOWN_JOB, '{"deadlineMs": 5000}', {
      'content-type': 'text/plain',
    });
    expect(await envelope(asText)).toEqual(expected);
    // Bytes, so that no Content-Type is set at all (a string body would get text/plain).
    const untyped = await exports.default.fetch(
      new Request(`http://x/v1/jobs/${UNKNOWN_JOB}`, {
        method: 'PATCH',
        headers: { authorization: 'Bearer test-token' },
        body: new TextEncoder().encode('{"deadlineMs": 5000}'),
      }),
    );
    expect(untyped.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await envelope(untyped)).toEqual(expected);
  });

  it('answers 413 for a body over 4 KiB', async () => {
    const body = `{"deadlineMs": 5000${' '.repeat(4096)}}`;
    expect(await envelope(await patch(UNKNOWN_JOB, body))).toEqual({
      status: 413,
      error: { code: 'payload_too_large', message: 'the body is over 4096 bytes' },
    });
  });

  it('counts the body in bytes, not characters: 1,500 euro signs are 4,500 bytes', async () => {
    const text = `{"deadlineMs": 5000, "note": "${'\u20ac'.repeat(1_500)}"}`;
    expect(text.length).toBeLessThan(4096);
    // Streamed, so no Content-Length declares the size: only counting bytes can refuse it.
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const req = new Request(`http://x/v1/jobs/${UNKNOWN_JOB}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(await envelope(await exports.default.fetch(req))).toEqual({
      status: 413,
      error: { code: 'payload_too_large', message: 'the body is over 4096 bytes' },
    });
  });

  it('refuses a streamed body without Content-Length once it passes the limit', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"deadlineMs": 5000'));
        // Far more than the limit: the reader must stop early, not hold it all.
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const req = new Request(`http://x/v1/jobs/${UNKNOWN_JOB}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(req.headers.get('content-length')).toBe(null);
    const res = await exports.default.fetch(req);
    expect(await envelope(res)).toEqual({
      status: 413,
      error: { code: 'payload_too_large', message: 'the body is over 4096 bytes' },
    });
    expect(sent).toBeLessThan(64);
  });

  it('refuses a deadline beyond the job maximum (9e15, 1e308), and the job still reads', async () => {
    const job = await runningJob();
    jobsToCancel.push(job.id);
    expect(job.deadlineAt).toBe(new Date(Date.parse(job.createdAt) + 600_000).toISOString());
    const cases = [
      ['9e15', 'deadlineMs: Too big: expected number to be <=604800000'],
      ['1e308', 'deadlineMs: Too big: expected int to be <=9007199254740991'],
    ] as const;
    for (const [n, message] of cases) {
      const res = await patch(job.id, `{"deadlineMs": ${n}}`);
      const { status, error } = await envelope(res);
      expect({ status, code: error.code, message: error.message }, n).toEqual({
        status: 400,
        code: 'invalid_request',
        message,
      });
      const after = await getJob(job.id);
      expect(after.deadlineAt, n).toBe(job.deadlineAt);
      expect(after.status, n).toBe('running');
    }
    // The maximum itself is accepted.
    const max = await patch(job.id, JSON.stringify({ deadlineMs: LIMITS.maxDeadlineMs }));
    expect(max.status).toBe(200);
    const moved = (await max.json()) as JobView;
    expect(Date.parse(moved.deadlineAt ?? '') - Date.parse(moved.createdAt)).toBe(604_800_000);
    expect((await getJob(job.id)).deadlineAt).toBe(moved.deadlineAt);
  });
});

describe('list cursors', () => {
  const forged = {
    status: 400,
    error: { code: 'invalid_request', message: 'cursor: not a cursor from this API' },
  };

  it('GET /v1/jobs: the cursor of page 1 (limit=1) leads to an older job', async () => {
    const older = await submit({ urls: [origin(`/text?list=${tag('older')}`)] });
    // The list orders by creation time: the newer job must be created on a later millisecond.
    const olderAt = Date.parse((await getJob(older.id)).createdAt);
    await until(() => Date.now() > olderAt, 1_000, 'the clock to pass the older job');
    const newer = await submit({ urls: [origin(`/text?list=${tag('newer')}`)] });
    const first = await api('/v1/jobs?limit=1');
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as ListPage<JobView>;
    expect(page1.items.map((j) => j.id)).toEqual([newer.id]);
    expect(page1.nextCursor).not.toBeNull();
    const second = await api(`/v1/jobs?limit=1&cursor=${page1.nextCursor}`);
    expect(second.status).toBe(200);
    const page2 = (await second.json()) as ListPage<JobView>;
    expect(page2.items.map((j) => j.id)).toEqual([older.id]);
    expect(Date.parse(page2.items[0]?.createdAt ?? '')).toBeLessThan(
      Date.parse(page1.items[0]?.createdAt ?? ''),
    );
    expect(await envelope(await api('/v1/jobs?cursor=garbage'))).toEqual(forged);
  });

  it('GET /v1/schedules: the cursor of page 1 (limit=1) leads to an older schedule', async () => {
    const ids: string[] = [];
    for (const name of ['older', 'newer']) {
      const res = await api('/v1/schedules', {
        method: 'POST',
        body: JSON.stringify({ name, cron: '0 0 1 1 *', job: { urls: [origin('/text')] } }),
      });
      expect(res.status).toBe(201);
      const created = (await res.json()) as ScheduleView;
      ids.push(created.id);
      schedulesToDelete.push(created.id);
      const at = Date.parse(created.createdAt);
      await until(() => Date.now() > at, 1_000, 'the clock to pass the schedule just created');
    }
    const first = await api('/v1/schedules?limit=1');
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as ListPage<ScheduleView>;
    expect(page1.items.map((s) => s.id)).toEqual([ids[1]]);
    expect(page1.nextCursor).not.toBeNull();
    const second = await api(`/v1/schedules?limit=1&cursor=${page1.nextCursor}`);
    expect(second.status).toBe(200);
    const page2 = (await second.json()) as ListPage<ScheduleView>;
    expect(page2.items.map((s) => s.id)).toEqual([ids[0]]);
    expect(Date.parse(page2.items[0]?.createdAt ?? '')).toBeLessThan(
      Date.parse(page1.items[0]?.createdAt ?? ''),
    );
    expect(await envelope(await api('/v1/schedules?cursor=garbage'))).toEqual(forged);
    // A jobs cursor is not a schedules cursor.
    const jobsCursor = btoa(`${Date.now()}.${UNKNOWN_JOB}`);
    expect(await envelope(await api(`/v1/schedules?cursor=${jobsCursor}`))).toEqual(forged);
  });
});
