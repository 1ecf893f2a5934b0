// deliverDueCallback with a stubbed fetch: redirects followed by hand, each hop guarded.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { verifyWebhook } from '../../examples/webhook-verify.mjs';
import { deliverDueCallback } from '../../src/coordinator/callback';
import type { JobRecord } from '../../src/coordinator/job-record';
import type { JobView } from '../../src/jobs/types';
import { blockedTarget } from '../../src/lib/ssrf';

/** A terminal job's record whose callback is due (first attempt). */
function dueRecord(callbackUrl: string) {
  const states: string[] = [];
  const record = {
    spec: { callbackUrl },
    row: { callback_state: 'pending:0' },
    setCallbackState: (s: string) => states.push(s),
  } as unknown as JobRecord;
  return { record, states };
}

const view = () => ({ id: 'j1', status: 'completed' }) as JobView;

/** Records each request: URL, method, body and signature header. */
function stubFetch(answer: (url: string) => Response) {
  const calls: Array<{
    url: string;
    method: string;
    body: string;
    signature: string | null;
    delivery: string | null;
    event: string | null;
  }> = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const headers = new Headers(init?.headers);
    calls.push({
      url: String(input),
      method: init?.method ?? 'GET',
      body: String(init?.body),
      signature: headers.get('x-scrape-fanout-signature'),
      delivery: headers.get('x-scrape-fanout-delivery'),
      event: headers.get('x-scrape-fanout-event'),
    });
    expect(init?.redirect).toBe('manual');
    return answer(String(input));
  });
  return calls;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('deliverDueCallback', () => {
  it('follows a redirect by hand, sending the same signed body to the next hop', async () => {
    const calls = stubFetch((url) =>
      url === 'https://hooks.example/a'
        ? new Response(null, { status: 308, headers: { location: 'https://hooks2.example/b' } })
        : new Response(null, { status: 204 }),
    );
    const { record, states } = dueRecord('https://hooks.example/a');
    expect(await deliverDueCallback(record, view, 'secret', blockedTarget)).toBe(null);
    expect(states).toEqual(['delivered']);
    expect(calls.map((c) => [c.url, c.method])).toEqual([
      ['https://hooks.example/a', 'POST'],
      ['https://hooks2.example/b', 'POST'],
    ]);
    expect(calls[1]?.body).toBe(calls[0]?.body);
    expect(calls[1]?.signature).toBe(calls[0]?.signature);
    expect(calls[0]?.signature).toMatch(/^t=\d{10},v1=[0-9a-f]{64}$/);
    expect(calls.map((c) => [c.event, c.delivery])).toEqual([
      ['job.completed', 'j1.job.completed'],
      ['job.completed', 'j1.job.completed'],
    ]);
  });

  it('a retry carries the same delivery id and a signature made at its own time', async () => {
    let status = 500;
    const calls = stubFetch(() => new Response(null, { status }));
    const first = dueRecord('https://hooks.example/a');
    await deliverDueCallback(first.record, view, 'secret', blockedTarget);
    status = 200;
    const second = {
      ...first.record,
      row: { callback_state: first.states[0] },
      setCallbackState: (s: string) => first.states.push(s),
    } as unknown as JobRecord;
    await deliverDueCallback(second, view, 'secret', blockedTarget);
    expect(first.states).toEqual(['pending:1', 'delivered']);
    expect(calls.map((c) => c.delivery)).toEqual(['j1.job.completed', 'j1.job.completed']);
    for (const call of calls) {
      expect(await verifyWebhook('secret', call.signature, call.body)).toMatchObject({ ok: true });
    }
  });

  it('never follows a redirect into private space: the attempt fails without a connection', async () => {
    const calls = stubFetch(
      () => new Response(null, { status: 307, headers: { location: 'http://127.0.0.1:8787/x' } }),
    );
    const { record, states } = dueRecord('https://hooks.example/a');
    const before = Date.now();
    const retryAt = await deliverDueCallback(record, view, 'secret', blockedTarget);
    expect(states).toEqual(['pending:1']);
    expect(retryAt).toBeGreaterThanOrEqual(before);
    expect(calls.map((c) => c.url)).toEqual(['https://hooks.example/a']);
  });

  it('refuses a private callback URL itself, and gives up after five redirects', async () => {
    const calls = stubFetch(
      (url) => new Response(null, { status: 302, headers: { location: `${url}x` } }),
    );
    const blocked = dueRecord('https://10.1.2.3/hook');
    await deliverDueCallback(blocked.record, view, undefined, blockedTarget);
    expect(blocked.states).toEqual(['pending:1']);
    expect(calls).toHaveLength(0);
    const looping = dueRecord('https://hooks.example/a');
    await deliverDueCallback(looping.record, view, undefined, blockedTarget);
    expect(looping.states).toEqual(['pending:1']);
    expect(calls).toHaveLength(6);
    expect(calls[0]?.signature).toBe(null);
  });
});
