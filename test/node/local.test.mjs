// startLocal (lib/local): the runtime's lifecycle. State is SQLite under the state directory and
// survives a restart; alarms fire; close() leaves no process, no handle and no temporary state.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { startLocal } from 'scrape-fanout/local';
import { descendants, readStat } from '../../scripts/lib/harness.mjs';
import { startOrigin } from '../origin/server.ts';

/** @type {Awaited<ReturnType<typeof startOrigin>>} */
let origin;
before(async () => {
  origin = await startOrigin({ hosts: ['127.0.0.1'] });
});
after(async () => {
  await origin?.close();
});

/** Handles that would keep a process alive, by type. */
function liveHandles() {
  /** @type {Record<string, number>} */
  const counts = {};
  for (const type of process.getActiveResourcesInfo()) {
    if (/Process|TCP|Pipe|UDP|Signal/.test(type)) counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** @param {string} dir @returns {Promise<string[]>} */
async function sqliteFiles(dir) {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((e) => e.endsWith('.sqlite'));
}

describe('startLocal', () => {
  it('close() stops workerd, leaves no handle, and deletes its own state directory', async () => {
    const handles = liveHandles();
    const sigint = process.listenerCount('SIGINT');
    const local = await startLocal({ handleSignals: false });
    let jobId = '';
    try {
      assert.equal(process.listenerCount('SIGINT'), sigint, 'handleSignals: false adds none');
      const workerd = descendants(process.pid).filter((p) => readStat(p)?.comm === 'workerd');
      assert.equal(workerd.length, 1);
      const job = await local.submit({ urls: [`${origin.baseUrl()}/page?title=Once&tag=close`] });
      jobId = job.id;
      assert.equal((await local.wait(job.id, { timeoutMs: 20_000 })).status, 'completed');
    } finally {
      await local.close();
    }
    await local.close(); // idempotent
    await tick();
    assert.deepEqual(descendants(process.pid), []);
    assert.deepEqual(liveHandles(), handles);
    assert.equal(existsSync(local.stateDir), false);
    await assert.rejects(local.job(jobId), /closed/);
  });

  it('keeps a given state directory: SQLite files, and jobs readable after a restart', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'scrape-fanout-local-test-'));
    try {
      const url = `${origin.baseUrl()}/page?title=Kept&links=2&tag=state`;
      const first = await startLocal({ stateDir });
      const job = await first.submit({ urls: [url] });
      await first.wait(job.id, { timeoutMs: 20_000 });
      await first.close();
      assert.ok((await sqliteFiles(stateDir)).length >= 2, 'Durable Object databases on disk');
      const again = await startLocal({ stateDir });
      try {
        const view = await again.job(job.id);
        assert.deepEqual([view.status, view.counts.succeeded], ['completed', 1]);
        const results = [];
        for await (const r of again.results(job.id)) results.push([r.url, r.title, r.links]);
        assert.deepEqual(results, [[url, 'Kept', 2]]);
      } finally {
        await again.close();
      }
      assert.ok(existsSync(stateDir));
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it("fires alarms: a deadline ends a job whose page never answers, a retry's due time comes", async () => {
    const local = await startLocal({ token: 'given-token', vars: { SETTLE_CHUNK_ROWS: '10' } });
    try {
      assert.equal(local.token, 'given-token');
      const b = origin.baseUrl();
      const hung = await local.submit({ urls: [`${b}/hang?tag=alarm`], deadlineMs: 1500 });
      const retried = await local.submit({
        urls: [`${b}/flaky?key=alarm&fails=2&tag=alarm`],
        retry: { maxAttempts: 3, baseDelayMs: 200 },
      });
      const [h, r] = await Promise.all([
        local.wait(hung.id, { timeoutMs: 20_000 }),
        local.wait(retried.id, { timeoutMs: 20_000 }),
      ]);
      assert.deepEqual([h.status, h.counts.cancelled], ['timed_out', 1]);
      assert.deepEqual([r.status, r.counts.succeeded], ['completed', 1]);
      const [result] = await Array.fromAsync(local.results(retried.id));
      assert.deepEqual([result.ok, result.attempts], [true, 3]);
    } finally {
      await local.close();
    }
  });

  it('renders in the local Chromium: render "auto" loads only the script-built page', async () => {
    const local = await startLocal({ handleSignals: false });
    try {
      const b = origin.baseUrl();
      const built = `${b}/script-page?title=Built+by+script&links=2&tag=local-render`;
      const plain = `${b}/page?title=Static&links=1&tag=local-render`;
      const job = await local.submit({ urls: [built, plain], render: 'auto', timeoutMs: 30_000 });
      assert.equal((await local.wait(job.id, { timeoutMs: 60_000 })).status, 'completed');
      const byUrl = new Map((await Array.fromAsync(local.results(job.id))).map((r) => [r.url, r]));
      assert.deepEqual(
        [byUrl.get(built)?.title, byUrl.get(built)?.links, byUrl.get(built)?.rendered],
        ['Built by script', 2, true],
      );
      assert.deepEqual([byUrl.get(plain)?.title, byUrl.get(plain)?.rendered], ['Static', false]);
    } finally {
      await local.close();
    }
  });
});
