import { describe, expect, it } from 'vitest';
import { isJobId } from '../../src/lib/ids';
import { isScheduleId, newScheduleId, scheduledJobId } from '../../src/lib/schedule-ids';
import { MAX_SCHEDULE_JOB_BYTES, parseSchedule, schedulesPerKey } from '../../src/schedules/schema';

/** Limits of a deployment with 100 URLs per job, private targets refused. */
const LIMITS_100 = { maxUrls: 100, allowPrivate: false };

const job = { urls: ['https://example.com/a'], concurrency: 5 };
const paths = (r: ReturnType<typeof parseSchedule>) => (r.ok ? [] : r.issues.map((i) => i.path));

describe('parseSchedule', () => {
  it('accepts name, cron and a job, keeping the job as submitted', () => {
    const r = parseSchedule({ name: ' daily ', cron: '0  6 * * *', job }, LIMITS_100);
    expect(r).toEqual({
      ok: true,
      name: 'daily',
      cron: '0 6 * * *',
      jobText: JSON.stringify(job),
      compare: false,
      notify: null,
    });
  });

  it('takes compare (a boolean) and notify (always or changes), not compare with job.compareWith', () => {
    const base = { name: 'a', cron: '* * * * *', job };
    expect(parseSchedule({ ...base, compare: true, notify: 'changes' }, LIMITS_100)).toMatchObject({
      ok: true,
      compare: true,
      notify: 'changes',
    });
    expect(parseSchedule({ ...base, notify: 'always' }, LIMITS_100)).toMatchObject({
      compare: false,
      notify: 'always',
    });
    expect(paths(parseSchedule({ ...base, compare: 'yes' }, LIMITS_100))).toEqual(['compare']);
    expect(paths(parseSchedule({ ...base, compare: null }, LIMITS_100))).toEqual(['compare']);
    expect(paths(parseSchedule({ ...base, notify: 'never' }, LIMITS_100))).toEqual(['notify']);
    const fixed = { ...job, compareWith: 'k000000000000000000000000' };
    expect(parseSchedule({ ...base, job: fixed }, LIMITS_100).ok).toBe(true);
    expect(parseSchedule({ ...base, job: fixed, compare: false }, LIMITS_100).ok).toBe(true);
    const both = parseSchedule({ ...base, job: fixed, compare: true }, LIMITS_100);
    expect(both.ok ? [] : both.issues).toEqual([
      { path: 'job.compareWith', message: 'give compare or job.compareWith, not both' },
    ]);
  });

  it('validates the job with the rules of POST /v1/jobs, naming fields under job.', () => {
    expect(
      paths(parseSchedule({ name: 'a', cron: '* * * * *', job: { urls: ['nope'] } }, LIMITS_100)),
    ).toEqual(['job.urls[0]']);
    expect(
      paths(
        parseSchedule(
          { name: 'a', cron: '* * * * *', job: { ...job, retry: { maxAttempts: 99 } } },
          LIMITS_100,
        ),
      ),
    ).toEqual(['job.retry.maxAttempts']);
    expect(
      paths(
        parseSchedule(
          {
            name: 'a',
            cron: '* * * * *',
            job: { urls: ['https://a.example/', 'https://b.example/'] },
          },
          { maxUrls: 1, allowPrivate: false },
        ),
      ),
    ).toEqual(['job.urls']);
    expect(paths(parseSchedule({ name: 'a', cron: '* * * * *', job: 'x' }, LIMITS_100))).toEqual([
      'job',
    ]);
    expect(paths(parseSchedule({ name: 'a', cron: '* * * * *' }, LIMITS_100))).toEqual(['job']);
  });

  it('names an unknown field of the job by its own path, one issue each', () => {
    const r = parseSchedule(
      { name: 'a', cron: '* * * * *', job: { ...job, concurency: 5, extra: 1 } },
      LIMITS_100,
    );
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'job.concurency', message: 'unknown field' },
      { path: 'job.extra', message: 'unknown field' },
    ]);
  });

  it('reports every bad field at once', () => {
    const r = parseSchedule({ name: 5, cron: '* *', job: { urls: [] }, when: 'now' }, LIMITS_100);
    expect(paths(r)).toEqual(expect.arrayContaining(['name', 'cron', 'job.urls', '(body)']));
  });

  it('refuses a missing or non-string cron and a non-object body', () => {
    expect(paths(parseSchedule({ name: 'a', job }, LIMITS_100))).toEqual(['cron']);
    expect(paths(parseSchedule({ name: 'a', cron: 5, job }, LIMITS_100))).toEqual(['cron']);
    expect(paths(parseSchedule([], LIMITS_100))).toEqual(['(body)']);
    expect(paths(parseSchedule(null, LIMITS_100))).toEqual(['(body)']);
  });

  it('bounds the stored job', () => {
    const long = `https://example.com/${'x'.repeat(2000)}`;
    const urls = Array.from(
      { length: Math.ceil(MAX_SCHEDULE_JOB_BYTES / 2000) + 1 },
      (_, i) => `${long}?${i}`,
    );
    expect(
      paths(
        parseSchedule(
          { name: 'a', cron: '* * * * *', job: { urls } },
          { maxUrls: 100_000, allowPrivate: false },
        ),
      ),
    ).toEqual(['job']);
  });
});

describe('an API key’s schedules', () => {
  it('hold the job’s concurrency (given or the default 20) to the key’s maxConcurrency', () => {
    const body = (concurrency?: number) => ({
      name: 'a',
      cron: '* * * * *',
      job: { urls: ['https://example.com/a'], concurrency },
    });
    const issue = {
      path: 'job.concurrency',
      message: 'at most 5 for this API key (its maxConcurrency)',
    };
    expect(parseSchedule(body(6), LIMITS_100, 5)).toEqual({ ok: false, issues: [issue] });
    expect(parseSchedule(body(), LIMITS_100, 5)).toEqual({ ok: false, issues: [issue] });
    expect(parseSchedule(body(5), LIMITS_100, 5).ok).toBe(true);
    expect(parseSchedule(body(1000), LIMITS_100).ok).toBe(true);
  });

  it('are capped by MAX_SCHEDULES_PER_KEY, 100 when it is unset or not a whole number', () => {
    const cases: [string | undefined, number][] = [
      ['3', 3],
      ['0', 0],
      ['250', 250],
      [undefined, 100],
      ['', 100],
      [' ', 100],
      ['many', 100],
      ['-1', 100],
      ['2.5', 100],
    ];
    expect(cases.map(([raw]) => schedulesPerKey(raw))).toEqual(cases.map(([, n]) => n));
  });
});

describe('schedule ids', () => {
  it('are time-ordered s-ids that the routes recognise', () => {
    const a = newScheduleId(1_000);
    const b = newScheduleId(2_000);
    expect(isScheduleId(a)).toBe(true);
    expect(a < b).toBe(true);
    expect(isScheduleId('j0000000000000000000000')).toBe(false);
    expect(isScheduleId('s0')).toBe(false);
  });

  it('derive one job id per (schedule, due time), shaped like a job id', async () => {
    const id = await scheduledJobId('s00000000000000000000a', 60_000);
    expect(isJobId(id)).toBe(true);
    expect(await scheduledJobId('s00000000000000000000a', 60_000)).toBe(id);
    expect(await scheduledJobId('s00000000000000000000a', 120_000)).not.toBe(id);
    expect(await scheduledJobId('s00000000000000000000b', 60_000)).not.toBe(id);
  });
});
