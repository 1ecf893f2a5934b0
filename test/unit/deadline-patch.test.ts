import { describe, expect, it } from 'vitest';
import { firstIssueMessage, LIMITS, parseDeadlinePatch } from '../../src/jobs/schema';

describe('parseDeadlinePatch', () => {
  it('accepts exactly {"deadlineMs": n} for n from 1 to the job maximum', () => {
    expect(parseDeadlinePatch({ deadlineMs: 1 })).toEqual({ ok: true, deadlineMs: 1 });
    expect(parseDeadlinePatch({ deadlineMs: LIMITS.maxDeadlineMs })).toEqual({
      ok: true,
      deadlineMs: 604_800_000,
    });
  });

  const refused: Array<[string, unknown, { path: string; message: string }]> = [
    [
      'one ms over the maximum',
      { deadlineMs: LIMITS.maxDeadlineMs + 1 },
      { path: 'deadlineMs', message: 'Too big: expected number to be <=604800000' },
    ],
    [
      'zero',
      { deadlineMs: 0 },
      { path: 'deadlineMs', message: 'Too small: expected number to be >=1' },
    ],
    [
      'a fraction',
      { deadlineMs: 1.5 },
      { path: 'deadlineMs', message: 'Invalid input: expected int, received number' },
    ],
    [
      'a string',
      { deadlineMs: '5000' },
      { path: 'deadlineMs', message: 'Invalid input: expected number, received string' },
    ],
    [
      'a missing field',
      {},
      { path: 'deadlineMs', message: 'Invalid input: expected number, received undefined' },
    ],
    [
      'unknown fields',
      { deadlineMs: 5000, deadline: 1, foo: 2 },
      { path: '(body)', message: 'unknown field(s) deadline, foo' },
    ],
    ['an array', [5000], { path: '(body)', message: 'expected a JSON object' }],
    ['null', null, { path: '(body)', message: 'expected a JSON object' }],
  ];

  it.each(refused)('refuses %s, naming the field', (_name, body, issue) => {
    const parsed = parseDeadlinePatch(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues[0]).toEqual(issue);
  });
});

describe('firstIssueMessage', () => {
  it('names the first issue as path: message, with the prefix given', () => {
    const issues = [
      { path: 'urls[3]', message: 'not an http(s) URL' },
      { path: 'mode', message: 'bad' },
    ];
    expect(firstIssueMessage(issues, 'invalid job')).toBe('urls[3]: not an http(s) URL');
    expect(firstIssueMessage(issues, 'invalid job', 'job.')).toBe(
      'job.urls[3]: not an http(s) URL',
    );
    expect(firstIssueMessage([], 'invalid job', 'job.')).toBe('invalid job');
  });
});
