// The NDJSON Results stream: reads on while pages say more settled, follows a running job until
// it is terminal, and ends a followed stream after 15 minutes whatever the job does.
import { describe, expect, it } from 'vitest';
import type { ResultsPage } from '../../src/coordinator/job-view';
import { ndjsonResponse } from '../../src/routes/ndjson-stream';

const page = (seqs: number[], more: boolean, terminal: boolean, after = 0): ResultsPage => ({
  selectors: [],
  bodies: seqs.map((s) => `{"seq":${s}}`),
  lastSeq: seqs.at(-1) ?? after,
  more,
  terminal,
});

/** A nextPage that serves `pages` in order and records the sequence numbers asked after. */
function pager(pages: ResultsPage[]) {
  const asked: number[] = [];
  const next = async (afterSeq: number) => {
    asked.push(afterSeq);
    if (asked.length > 100) throw new Error('the stream never ended');
    return pages.shift() ?? page([], false, false, afterSeq);
  };
  return { asked, next };
}

const seqsOf = async (res: Response) =>
  (await res.text())
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

describe('ndjsonResponse', () => {
  it('reads past a page cut by bytes, and stops when nothing more settled', async () => {
    const { asked, next } = pager([page([3], true, false), page([4, 5], false, false)]);
    const res = ndjsonResponse(page([1, 2], true, false), next, { follow: false });
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(await seqsOf(res)).toEqual([1, 2, 3, 4, 5]);
    expect(asked).toEqual([2, 3]);
  });

  it('with follow, waits through empty pages until the job is terminal', async () => {
    const { asked, next } = pager([
      page([], false, false, 2),
      page([3], false, false),
      page([], false, true, 3),
    ]);
    const res = ndjsonResponse(page([1, 2], false, false), next, { follow: true, pollMs: 0 });
    expect(await seqsOf(res)).toEqual([1, 2, 3]);
    expect(asked).toEqual([2, 2, 3]);
  });

  it('ends a followed stream after maxFollowMs even if the job never ends', async () => {
    let clock = 0;
    const { asked, next } = pager([]);
    // Each empty page the stream reads costs a minute of the fake clock.
    const ticking = async (afterSeq: number) => {
      clock += 60_000;
      return next(afterSeq);
    };
    const res = ndjsonResponse(page([1], false, false), ticking, {
      follow: true,
      pollMs: 0,
      now: () => clock,
    });
    expect(await seqsOf(res)).toEqual([1]);
    expect(asked).toHaveLength(15);
  });
});
