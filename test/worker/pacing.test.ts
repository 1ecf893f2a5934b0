// Per-host pacing through the worker's own fetch handler: perHostDelayMs and a robots.txt
// Crawl-delay space the request starts to one host, across every shard of the job, while
// other hosts proceed in parallel. Times are the origin's arrival times (`/__timeline`).
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { api, getJob, origin, originStats, submit, tag, waitForJob } from '../support/api';

/** Start times (epoch ms, as the origin saw them) of the requests of `t`, in order. */
async function startsOf(t: string): Promise<number[]> {
  const res = await fetch(origin(`/__timeline?tag=${encodeURIComponent(t)}`));
  const spans = (await res.json()) as Array<[number, number]>;
  return spans.map(([start]) => start).sort((a, b) => a - b);
}

/** The gaps between consecutive starts. */
const gaps = (starts: number[]) => starts.slice(1).map((s, i) => s - (starts[i] ?? 0));

/** The job's hosts table: per `host:port`, the robots rules it stored and the shards it used. */
async function hostsOf(jobId: string) {
  return runInDurableObject(env.JOB_COORDINATOR.getByName(jobId), (_o, state) =>
    state.storage.sql
      .exec<{ host: string; robots: string | null; shards: number }>(
        `SELECT h.host, h.robots, count(DISTINCT u.shard) AS shards
         FROM hosts h JOIN urls u ON u.host_id = h.id GROUP BY h.id ORDER BY h.id`,
      )
      .toArray(),
  );
}

/** 127.0.0.7 is the host whose robots.txt only this file gives a Crawl-delay (server.ts). */
const CRAWL_HOST = '127.0.0.7';

/** Makes robots.txt of CRAWL_HOST give `Crawl-delay: s` (to `agent`'s group; null: none). */
async function crawlDelay(s: string | null, agent = '*'): Promise<void> {
  const query = `s=${s ?? ''}&agent=${encodeURIComponent(agent)}`;
  const res = await fetch(origin(`/__robots/crawl-delay?${query}`, CRAWL_HOST));
  expect(res.status).toBe(200);
}

describe('perHostDelayMs', () => {
  it('spaces one host’s request starts across shards; another host starts in parallel', async () => {
    const a = tag('pace-a');
    const b = tag('pace-b');
    const aUrls = Array.from({ length: 8 }, (_, i) => origin(`/delay?ms=30&tag=${a}&i=${i}`));
    const bUrls = [0, 1].map((i) => origin(`/page?tag=${b}&i=${i}`, '127.0.0.2'));
    // Concurrency 12: two shards of 6.
    const job = await submit({ urls: [...aUrls, ...bUrls], concurrency: 12, perHostDelayMs: 300 });
    const view = await waitForJob(job.id);
    expect(view).toMatchObject({ status: 'completed', counts: { succeeded: 10, failed: 0 } });

    const aStarts = await startsOf(a);
    const bStarts = await startsOf(b);
    expect(aStarts).toHaveLength(8);
    for (const gap of gaps(aStarts)) expect(gap).toBeGreaterThanOrEqual(300);
    for (const gap of gaps(bStarts)) expect(gap).toBeGreaterThanOrEqual(300);
    // The other host does not queue behind the first one's pacing.
    expect(bStarts[0]).toBeLessThan(aStarts[1] ?? 0);
    // The first host's URLs were fetched by both shards: the spacing held across them.
    const port = new URL(aUrls[0] ?? '').port;
    expect(await hostsOf(job.id)).toEqual([
      { host: `127.0.0.1:${port}`, robots: null, shards: 2 },
      { host: `127.0.0.2:${port}`, robots: null, shards: expect.any(Number) },
    ]);
  });

  it.each([-1, 60_001, 1.5, '300'])('is refused when %j (400 naming the field)', async (value) => {
    const res = await api('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ urls: [origin('/page')], perHostDelayMs: value }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { details: Array<{ path: string }> } };
    expect(body.error.details.map((d) => d.path)).toEqual(['perHostDelayMs']);
  });
});

describe('robots.txt Crawl-delay (respectRobots)', () => {
  afterEach(async () => {
    await crawlDelay(null);
  });

  it('spaces the host’s request starts by its Crawl-delay; a host without one is not paced', async () => {
    await crawlDelay('0.4');
    const t = tag('crawl');
    const other = tag('crawl-other');
    const urls = Array.from({ length: 5 }, (_, i) => origin(`/page?tag=${t}&i=${i}`, CRAWL_HOST));
    const free = [0, 1, 2].map((i) => origin(`/delay?ms=300&tag=${other}&i=${i}`, '127.0.0.2'));
    const job = await submit({ urls: [...urls, ...free], concurrency: 12, respectRobots: true });
    const view = await waitForJob(job.id);
    expect(view).toMatchObject({ status: 'completed', counts: { succeeded: 8 } });

    const starts = await startsOf(t);
    expect(starts).toHaveLength(5);
    for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(400);
    // The host without a Crawl-delay had its pages in flight together.
    expect((await originStats(other)).maxInFlight).toBeGreaterThan(1);
    const [crawl] = await hostsOf(job.id);
    expect(JSON.parse(crawl?.robots ?? 'null')).toEqual({
      allow: [],
      disallow: ['/private/'],
      crawlDelayMs: 400,
    });
  });

  it('ignores a Crawl-delay in another agent’s group', async () => {
    await crawlDelay('5', 'otherbot');
    const t = tag('crawl-theirs');
    const urls = [0, 1, 2].map((i) => origin(`/delay?ms=300&tag=${t}&i=${i}`, CRAWL_HOST));
    const job = await submit({ urls, concurrency: 6, respectRobots: true });
    const view = await waitForJob(job.id);
    expect(view).toMatchObject({ status: 'completed', counts: { succeeded: 3 } });
    expect((await originStats(t)).maxInFlight).toBeGreaterThan(1);
    const [crawl] = await hostsOf(job.id);
    expect(JSON.parse(crawl?.robots ?? 'null')).toEqual({ allow: [], disallow: ['/private/'] });
  });

  it('caps a Crawl-delay above 60 s at 60 s: the page waits a minute after robots.txt', async () => {
    await crawlDelay('3600');
    const t = tag('crawl-capped');
    const job = await submit({
      urls: [origin(`/page?tag=${t}`, CRAWL_HOST)],
      respectRobots: true,
    });
    let robots: string | null = null;
    for (let i = 0; i < 200 && robots === null; i++) {
      await new Promise((r) => setTimeout(r, 25));
      robots = (await hostsOf(job.id))[0]?.robots ?? null;
    }
    expect(JSON.parse(robots ?? 'null')).toMatchObject({ crawlDelayMs: 60_000 });
    // Its page is handed out no sooner than a quarter of the run lease before its start.
    expect(await getJob(job.id)).toMatchObject({ counts: { queued: 1, inFlight: 0 } });
    expect((await originStats(t)).requests).toBe(0);
    expect((await api(`/v1/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(200);
  });
});
