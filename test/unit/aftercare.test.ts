// What a terminal job still owes, in order: the callback, the report of its end to the job
// index, then (callback settled, retention passed) its deletion.
import { describe, expect, it } from 'vitest';
import { aftercare, retentionMs } from '../../src/coordinator/aftercare';
import type { JobRecord } from '../../src/coordinator/job-record';
import type { JobView } from '../../src/jobs/types';

function terminalRecord(callbackState: string | null, indexState: string | null) {
  const record = {
    spec: {},
    row: {
      job_id: 'j1',
      finished_at: 1_000,
      callback_state: callbackState,
      index_state: indexState,
    },
    setIndexState(s: string) {
      record.row.index_state = s;
    },
  };
  return record;
}

function deps(record: ReturnType<typeof terminalRecord>, retention: number) {
  const calls: string[] = [];
  return {
    calls,
    d: {
      record: record as unknown as JobRecord,
      view: () => ({ id: 'j1' }) as JobView,
      webhookSecret: undefined,
      isBlocked: undefined,
      reportEnd: async (id: string, at: number) => {
        calls.push(`ended ${id} ${at}`);
      },
      retentionMs: retention,
      purge: async () => {
        calls.push('purge');
      },
    },
  };
}

describe('retentionMs', () => {
  it('reads JOB_RETENTION_SECONDS, 7 days when absent or not a number of seconds ≥ 0', () => {
    expect(retentionMs('2')).toBe(2_000);
    expect(retentionMs('0')).toBe(0);
    expect(retentionMs('0.5')).toBe(500);
    for (const bad of [undefined, '', ' ', '-1', 'x', 'Infinity']) {
      expect(retentionMs(bad)).toBe(604_800_000);
    }
  });
});

describe('aftercare', () => {
  it('reports the end once, then comes back when the retention time is up', async () => {
    const record = terminalRecord(null, 'pending');
    const { d, calls } = deps(record, 60_000);
    expect(await aftercare(d, 2_000)).toBe(61_000);
    expect(await aftercare(d, 3_000)).toBe(61_000);
    expect(calls).toEqual(['ended j1 1000']);
    expect(record.row.index_state).toBe('done');
    expect(await aftercare(d, 61_000)).toBe(null);
    expect(calls).toEqual(['ended j1 1000', 'purge']);
  });

  it('keeps the job while its callback is still to be settled, even past retention', async () => {
    const record = terminalRecord('pending:1', 'done');
    const { d, calls } = deps(record, 0);
    expect(await aftercare(d, 5_000)).toBe(1_000);
    expect(calls).toEqual([]);
    record.row.callback_state = 'failed';
    expect(await aftercare(d, 5_000)).toBe(null);
    expect(calls).toEqual(['purge']);
  });

  it('tries a failed report again 5 s later', async () => {
    const record = terminalRecord(null, 'pending');
    const { d, calls } = deps(record, 60_000);
    d.reportEnd = async () => {
      throw new Error('index unreachable');
    };
    expect(await aftercare(d, 9_000)).toBe(14_000);
    expect(record.row.index_state).toBe('pending');
    expect(calls).toEqual([]);
  });
});
