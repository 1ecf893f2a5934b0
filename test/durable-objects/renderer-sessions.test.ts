// The Renderer's record of its browser sessions: a session it launched stays on record until it
// closes it, so a browser the object lost (a crash, an eviction) is closed by its next life, and
// its alarm keeps a browser that is in use. Against the local Browser Rendering binding (skipped
// without the local Chromium, except under CI).

import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import puppeteer from '@cloudflare/puppeteer';
import { describe, expect, inject, it } from 'vitest';
import { origin, tag } from '../support/api';
import { eventually, renderRequest, sessionProcesses } from '../support/render';

const stub = () => env.RENDERER.getByName('renderer-sessions-test');

/** The session ids the object has on record. */
function recorded(): Promise<string[]> {
  return runInDurableObject(stub(), async (_o, state) => {
    const keys = await state.storage.list({ prefix: 'session:' });
    return [...keys.keys()].map((k) => k.slice('session:'.length));
  });
}

async function expectClosed(sessionId: string): Promise<void> {
  const sessions = await eventually(
    () => puppeteer.sessions(env.BROWSER),
    (list) => !list.some((s) => s.sessionId === sessionId),
  );
  expect(sessions.map((s) => s.sessionId)).not.toContain(sessionId);
  const left = await eventually(
    () => sessionProcesses(sessionId),
    (n) => n === null || n === 0,
  );
  if (left !== null) expect(left).toBe(0);
}

describe.skipIf(!inject('browserTests'))('Renderer sessions', () => {
  it('keeps an open browser on record, and its alarm keeps a browser idle only briefly', async () => {
    const jobId = tag('sessions');
    const result = await stub().render(renderRequest(origin(`/page?tag=${jobId}`), { jobId }));
    expect(result.ok).toBe(true);
    const { sessionId } = await stub().status();
    expect(sessionId).not.toBeNull();
    expect(await recorded()).toEqual([sessionId]);

    const alarmAt = await runInDurableObject(stub(), async (instance, state) => {
      await instance.alarm();
      return state.storage.getAlarm();
    });
    expect((await stub().status()).sessionId).toBe(sessionId);
    expect(alarmAt).toEqual(expect.any(Number));

    await stub().endJob(jobId);
    expect(await recorded()).toEqual([]);
    await expectClosed(sessionId ?? '');
  });

  it('closes the browser of a life it lost on its next start', async () => {
    const jobId = tag('lost');
    const result = await stub().render(renderRequest(origin(`/page?tag=${jobId}`), { jobId }));
    expect(result.ok).toBe(true);
    const { sessionId } = await stub().status();
    expect(sessionId).not.toBeNull();

    // The object dies with its browser open: the session outlives it (local sessions never
    // expire), and only the record tells the next life about it.
    await runInDurableObject(stub(), (_o, state) => state.abort('a crash (test)')).catch(
      () => undefined,
    );
    const live = await puppeteer.sessions(env.BROWSER);
    expect(live.map((s) => s.sessionId)).toContain(sessionId);

    expect(await stub().status()).toMatchObject({ sessionId: null, tabs: 0 });
    expect(await recorded()).toEqual([]);
    await expectClosed(sessionId ?? '');
  });
});
