// A shard run's guards, driven directly (ShardRun with a stand-in coordinator): private
// targets refused when the deployment does not allow them (every other test runs with
// ALLOW_PRIVATE_TARGETS=true), and robots.txt that cannot be read meaning "disallow all".
import { describe, expect, it } from 'vitest';
import type { ShardAssignment, WorkItem, WorkOutcome } from '../../src/shard/protocol';
import { ShardRun } from '../../src/shard/shard-run';
import { origin, originStats, tag } from '../support/api';

/** Runs `items` through one shard run and returns every outcome it reported. */
async function runItems(items: WorkItem[], allowPrivate: boolean): Promise<WorkOutcome[]> {
  const assignment: ShardAssignment = {
    jobId: 'guards',
    shardIdx: 0,
    runId: `guards-${crypto.randomUUID()}`,
    slots: 6,
    timeoutMs: 5_000,
    maxBytes: 1_000_000,
    selectors: {},
    allowPrivate,
    heartbeatMs: 500,
    items,
    holds: [],
  };
  const reported: WorkOutcome[] = [];
  const run = new ShardRun(assignment, {
    // A coordinator with nothing more to hand out: the run reports and ends once idle.
    async exchange(req) {
      reported.push(...req.outcomes);
      const done = req.inflight === 0 && req.queued === 0;
      return { items: [], stop: done, abort: false, dry: true };
    },
  });
  await run.run();
  return reported;
}

function page(idx: number, url: string): WorkItem {
  return { type: 'page', idx, url, host: new URL(url).host };
}

describe('a shard run with private targets blocked', () => {
  it('refuses loopback pages before any request: kind blocked_target, the origin sees nothing', async () => {
    const t = tag('private');
    const items = [
      page(0, origin(`/page?tag=${t}&i=0`)),
      page(1, origin(`/redirect?to=/page&tag=${t}&i=1`, '127.0.0.2')),
    ];
    const reported = await runItems(items, false);
    const byIdx = new Map(reported.map((o) => [o.type === 'page' ? o.idx : -1, o]));
    expect([...byIdx.keys()].sort()).toEqual([0, 1]);
    for (const [idx, o] of byIdx) {
      expect(o).toMatchObject({
        type: 'page',
        outcome: {
          ok: false,
          kind: 'blocked_target',
          status: null,
          message: `blocked target: ${items[idx]?.url}`,
        },
      });
    }
    expect((await originStats(t)).requests).toBe(0);
  });

  it('the same pages with private targets allowed reach the origin (the control)', async () => {
    const t = tag('private-allowed');
    const reported = await runItems([page(0, origin(`/page?title=Hi&tag=${t}`))], true);
    expect(reported).toEqual([
      { type: 'page', idx: 0, outcome: expect.objectContaining({ ok: true, status: 200 }) },
    ]);
    expect((await originStats(t)).requests).toBe(1);
  });
});

describe('a shard run fetching robots.txt', () => {
  /** Complete disallow, saying why robots.txt could not be read. */
  const disallowAll = (why: unknown) => ({ allow: [], disallow: ['/'], unreachable: why });

  it.each([500, 503])('reads a robots.txt answered %i as "disallow all"', async (status) => {
    const t = tag(`robots-${status}`);
    const url = origin(`/status/${status}?tag=${t}`);
    const reported = await runItems([{ type: 'robots', hostId: 7, url }], true);
    const rules = disallowAll(`HTTP ${status}`);
    expect(reported).toEqual([{ type: 'robots', hostId: 7, rules }]);
    expect((await originStats(t)).requests).toBe(1);
  });

  it('reads a robots.txt it cannot connect to as "disallow all"', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused.
    const url = 'http://127.0.0.1:1/robots.txt';
    const reported = await runItems([{ type: 'robots', hostId: 3, url }], true);
    const rules = disallowAll(expect.any(String));
    expect(reported).toEqual([{ type: 'robots', hostId: 3, rules }]);
  });

  it('reads a missing robots.txt (404) as "allow all" (the control)', async () => {
    const t = tag('robots-404');
    const url = origin(`/status/404?tag=${t}`);
    const reported = await runItems([{ type: 'robots', hostId: 5, url }], true);
    expect(reported).toEqual([{ type: 'robots', hostId: 5, rules: { allow: [], disallow: [] } }]);
  });
});
