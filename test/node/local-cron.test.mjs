// Schedules fire under plain `npm start`: scripts/lib/local-cron.mjs ticks the worker's
// scheduled() handler every minute, as Cloudflare's cron trigger does.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, freePort, freshStateDir, startServer } from '../../scripts/lib/harness.mjs';
import { nextTickAt, triggerUrl } from '../../scripts/lib/local-cron.mjs';

const at = (hms) => Date.parse(`2026-12-01T${hms}Z`);

describe('the local cron ticker', () => {
  it('ticks one second into each minute, for that minute', () => {
    assert.equal(nextTickAt(at('12:00:30.000')), at('12:01:01.000'));
    assert.equal(nextTickAt(at('12:00:00.500')), at('12:00:01.000'));
    assert.equal(nextTickAt(at('12:00:01.000')), at('12:01:01.000'));
    assert.equal(nextTickAt(at('12:00:59.999')), at('12:01:01.000'));
    assert.equal(
      triggerUrl('http://127.0.0.1:8787', at('12:01:00.000')),
      `http://127.0.0.1:8787/cdn-cgi/local/scheduled?cron=*%20*%20*%20*%20*&time=${at('12:01:00.000')}`,
    );
  });
});

describe('npm start with a * * * * * schedule', () => {
  /** @type {Awaited<ReturnType<typeof startServer>>} */
  let server;
  before(async () => {
    const dir = freshStateDir('scrape-fanout-cron-');
    server = await startServer({
      port: await freePort(),
      persistDir: join(dir, 'state'),
      logPath: join(dir, 'server.log'),
    });
  });
  after(async () => {
    await server?.kill();
  });

  it('starts a job within 75 s, with no flag and no manual tick', {
    timeout: 120_000,
  }, async () => {
    const created = await api(server.base, '/v1/schedules', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'every minute',
        cron: '* * * * *',
        job: { urls: [`${server.base}/`] },
      }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = /** @type {{ id: string }} */ (created.body).id;
    const deadline = Date.now() + 75_000;
    /** @type {Array<{ status: string, jobId: string | null }>} */
    let runs = [];
    while (Date.now() < deadline && !runs.some((r) => r.status === 'started')) {
      await new Promise((r) => setTimeout(r, 1_000));
      runs = /** @type {{ runs: typeof runs }} */ (
        (await api(server.base, `/v1/schedules/${id}`)).body
      ).runs;
    }
    const started = runs.find((r) => r.status === 'started');
    assert.ok(started?.jobId, `no run started in 75 s: ${JSON.stringify(runs)}`);
    const job = await api(server.base, `/v1/jobs/${started.jobId}`);
    assert.equal(job.status, 200);
    assert.equal(/** @type {{ counts: { total: number } }} */ (job.body).counts.total, 1);
  });
});
