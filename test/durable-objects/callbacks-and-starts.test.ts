// The coordinator's paths that only its alarm and its shards reach: the callback (signed,
// retried, given up), a shard that fails to start, and the attempts a dead run had started
// (logged as lost once its lease expires).
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { FetchShard } from '../../durable-objects/fetch-shard';
import { verifyWebhook } from '../../examples/webhook-verify.mjs';
import type { JobView } from '../../src/jobs/types';
import type { ShardAssignment } from '../../src/shard/protocol';
import {
  allResults,
  api,
  getJob,
  origin,
  originStats,
  submit,
  tag,
  waitForJob,
} from '../support/api';
import { until } from '../support/time';

/** WEBHOOK_SECRET of the test bindings (vitest.config.ts). */
const WEBHOOK_SECRET = 'test-webhook-secret';

/** A request the origin's `/hook` received (test/origin/server.ts). */
interface Hook {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  at: number;
}

async function hooks(t: string): Promise<Hook[]> {
  return (await (await fetch(origin(`/__hooks?tag=${t}`))).json()) as Hook[];
}

/** Hex HMAC-SHA256 of `body` under `secret`, computed here rather than by the code under test. */
async function hmacHex(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    enc.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(body)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A fresh stub each time: a stub breaks with the object it reached. */
const coordinator = (id: string) => env.JOB_COORDINATOR.getByName(id);

/** The job row's callback_state, read in place. */
function callbackState(id: string): Promise<string | null> {
  return runInDurableObject(coordinator(id), (_o, state) =>
    state.storage.sql
      .exec<{ callback_state: string | null }>('SELECT callback_state FROM job')
      .one(),
  ).then((r) => r.callback_state);
}

/** Each hook is a signed POST of the final job view. */
async function expectSignedViews(received: Hook[], final: JobView): Promise<void> {
  for (const hook of received) {
    expect(hook.method).toBe('POST');
    expect(hook.headers['content-type']).toBe('application/json');
    expect(JSON.parse(hook.body)).toEqual(final);
    expect(hook.headers['x-scrape-fanout-event']).toBe('job.completed');
    expect(hook.headers['x-scrape-fanout-delivery']).toBe(`${final.id}.job.completed`);
    const signature = hook.headers['x-scrape-fanout-signature'] ?? '';
    const t = Number(/^t=(\d+),/.exec(signature)?.[1]);
    // Signed as it is sent: the timestamp is the second the origin received it, near enough.
    expect(Math.abs(t - Math.floor(hook.at / 1000))).toBeLessThanOrEqual(2);
    expect(signature).toBe(`t=${t},v1=${await hmacHex(WEBHOOK_SECRET, `${t}.${hook.body}`)}`);
    expect(await verifyWebhook(WEBHOOK_SECRET, signature, hook.body, hook.at)).toEqual({
      ok: true,
      timestamp: t,
    });
  }
}

/**
 * Runs the coordinator's alarm each time a failed attempt has been recorded, instead of
 * waiting out the callback's backoff (2 s and doubling), until the state is `final`.
 */
async function driveCallback(id: string, t: string, final: string): Promise<void> {
  await until(
    async () => {
      const state = await callbackState(id);
      if (state === final) return true;
      // `pending:n` once attempt n is recorded: the next one is due at its backoff.
      const made = Number(state?.slice('pending:'.length));
      if (made > 0 && (await hooks(t)).length === made)
        await runDurableObjectAlarm(coordinator(id));
      return false;
    },
    20_000,
    `callback_state ${final}`,
  );
}

describe('the callback', () => {
  it('a receiver answering 2xx gets one POST of the final job view, signed, and it is delivered', async () => {
    const t = tag('hook-ok');
    const job = await submit({
      urls: [origin(`/page?title=CB&tag=${t}`)],
      callbackUrl: origin(`/hook?tag=${t}&status=202`),
    });
    const final = await waitForJob(job.id);
    expect(final.status).toBe('completed');
    // The first attempt is due as the job ends: the alarm makes it at once.
    await until(async () => (await callbackState(job.id)) === 'delivered', 10_000, 'delivery');
    const received = await hooks(t);
    expect(received).toHaveLength(1);
    expect(received[0]?.status).toBe(202);
    await expectSignedViews(received, await getJob(job.id));
    // The alarm left is the retention one (aftercare.ts): run now, it sends nothing more.
    expect(await runDurableObjectAlarm(coordinator(job.id))).toBe(true);
    expect(await hooks(t)).toHaveLength(1);
  });

  it('a receiver answering 500 is tried 5 times in all, then the callback is failed', async () => {
    const t = tag('hook-500');
    const job = await submit({
      urls: [origin(`/page?title=CB&tag=${t}`)],
      callbackUrl: origin(`/hook?tag=${t}&status=500`),
    });
    await waitForJob(job.id);
    await driveCallback(job.id, t, 'failed');
    const received = await hooks(t);
    expect(received.map((h) => h.status)).toEqual([500, 500, 500, 500, 500]);
    await expectSignedViews(received, await getJob(job.id));
    // Given up: the alarm left (retention), run now, makes no sixth attempt.
    expect(await runDurableObjectAlarm(coordinator(job.id))).toBe(true);
    expect(await hooks(t)).toHaveLength(5);
    expect(await callbackState(job.id)).toBe('failed');
  });

  it('a receiver that answers 500 twice and then 200 gets the callback on the third attempt', async () => {
    const t = tag('hook-late');
    const job = await submit({
      urls: [origin(`/page?title=CB&tag=${t}`)],
      callbackUrl: origin(`/hook?tag=${t}&status=500&fails=2`),
    });
    await waitForJob(job.id);
    await driveCallback(job.id, t, 'delivered');
    const received = await hooks(t);
    expect(received.map((h) => h.status)).toEqual([500, 500, 200]);
    await expectSignedViews(received, await getJob(job.id));
    expect(await runDurableObjectAlarm(coordinator(job.id))).toBe(true);
    expect(await hooks(t)).toHaveLength(3);
  });
});

describe('a shard that fails to start', () => {
  const start = FetchShard.prototype.start;
  afterEach(() => {
    FetchShard.prototype.start = start;
  });

  it('gets its URLs put back, its run forgotten and a retry by the alarm a second later; the job then completes', async () => {
    const t = tag('nostart');
    const urls = Array.from({ length: 6 }, (_, i) => origin(`/page?title=S${i}&tag=${t}`));
    // Every start of this job's shard fails (as an unreachable shard's would) until the test
    // lets them through. The shard objects run in this isolate, so their class is this one.
    const failedAt: number[] = [];
    const ours = (a: ShardAssignment) => a.items.some((i) => i.url.includes(t));
    FetchShard.prototype.start = async function (this: FetchShard, a: ShardAssignment) {
      if (!ours(a)) return start.call(this, a);
      failedAt.push(Date.now());
      throw new Error('this shard cannot start (test)');
    };
    const job = await submit({ urls, concurrency: 6 });
    const createdAt = Date.parse((await getJob(job.id)).createdAt);
    // Read in one turn of the coordinator: a failed start has been handled (no run booked)
    // and nothing is out.
    const seen = await until(
      () =>
        runInDurableObject(coordinator(job.id), async (_o, state) => {
          const alarm = await state.storage.getAlarm();
          const sql = state.storage.sql;
          const runs = sql.exec<{ run_id: string | null }>('SELECT run_id FROM shards').toArray();
          const states = sql
            .exec<{ state: number; n: number }>(
              'SELECT state, count(*) AS n FROM urls GROUP BY state ORDER BY state',
            )
            .toArray();
          const lastFailure = failedAt.at(-1);
          const handled = lastFailure !== undefined && runs.every((r) => r.run_id === null);
          return handled ? { alarm, runs, states, lastFailure, failures: failedAt.length } : null;
        }),
      10_000,
      'a failed start to be handled',
    );
    expect(seen.runs).toEqual([{ run_id: null }]);
    // Every URL is queued again (state 0), none out, none settled.
    expect(seen.states).toEqual([{ state: 0, n: 6 }]);
    // The retry is due a second after the failure (START_RETRY_MS), sooner than the
    // housekeeping tick that creating the job asked for (SHARD_LEASE_MS, 2 s, after it).
    const alarm = seen.alarm ?? 0;
    expect(alarm - seen.lastFailure).toBeGreaterThanOrEqual(1_000);
    expect(alarm).toBeLessThan(createdAt + 2_000);
    expect((await originStats(t)).requests).toBe(0);

    // The shard can start again; the alarm's retry (run now, not waited for) starts it.
    FetchShard.prototype.start = start;
    await runDurableObjectAlarm(coordinator(job.id));
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    expect(view.counts).toMatchObject({ total: 6, succeeded: 6 });
    const results = await allResults(job.id);
    // The failed starts fetched nothing: one attempt each, and no lost attempt logged.
    expect(results.map((r) => r.attempts)).toEqual([1, 1, 1, 1, 1, 1]);
    expect((await originStats(t)).requests).toBe(6);
    const log = (await (await api(`/v1/jobs/${job.id}/attempts`)).json()) as { items: unknown[] };
    expect(log.items).toEqual([]);
  });
});

describe('a run that dies', () => {
  it('its started fetches are logged as lost once its lease expires, and run again', async () => {
    const t = tag('lost');
    // Gate pages wait until the test opens the gate: the first fetches hang until the run dies.
    const urls = Array.from({ length: 6 }, (_, i) => origin(`/gate?tag=${t}&i=${i}`));
    const job = await submit({ urls, concurrency: 6 });
    await until(async () => (await originStats(t)).inFlight === 6, 10_000, '6 fetches in flight');
    // The run tells the coordinator which fetches it started (its heartbeat carries them).
    const started = () =>
      runInDurableObject(
        coordinator(job.id),
        (_o, state) =>
          state.storage.sql
            .exec<{ n: number }>('SELECT count(*) AS n FROM urls WHERE started = 1')
            .one().n,
      );
    await until(async () => (await started()) === 6, 10_000, '6 starts reported');
    // The run dies without a word (its fetches are cut off); its lease (2 s) runs out.
    const abortedAt = Date.now();
    await env.FETCH_SHARD.getByName(`${job.id}/0`).abort();
    await until(async () => (await originStats(t)).aborted === 6, 10_000, '6 fetches cut off');
    await fetch(origin(`/__open?tag=${t}`));
    const view = await waitForJob(job.id);
    expect(view.status).toBe('completed');
    expect(view.counts).toMatchObject({ total: 6, succeeded: 6 });

    const res = await api(`/v1/jobs/${job.id}/attempts`);
    const log = (await res.json()) as {
      items: Array<{ url: string; attempt: number; at: string; kind: string }>;
      nextCursor: string | null;
    };
    expect(log.nextCursor).toBeNull();
    expect(log.items.map((a) => a.url).sort()).toEqual([...urls].sort());
    for (const item of log.items) {
      expect(item).toEqual({
        url: item.url,
        attempt: 1,
        at: item.at,
        status: null,
        kind: 'lost',
        message: 'the shard running this fetch stopped before reporting it; the URL was run again',
        durationMs: 0,
      });
      // Logged when the lease ran out: after the run died, before the job ended.
      const at = Date.parse(item.at);
      expect(at).toBeGreaterThanOrEqual(abortedAt);
      expect(at).toBeLessThanOrEqual(Date.parse(view.finishedAt ?? ''));
    }
    const results = await allResults(job.id);
    expect(results.every((r) => r.ok && r.attempts === 2)).toBe(true);
    const stats = await originStats(t);
    expect(stats).toMatchObject({ requests: 12, aborted: 6 });
  });
});
