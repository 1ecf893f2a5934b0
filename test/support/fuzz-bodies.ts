// Generators of request bodies for the route fuzzing of test/worker/fuzz.test.ts: job specs,
// schedules and deadline changes, each valid or with a flaw or two, and text that is barely
// JSON or not at all. Every URL a generator can put in a job names the local origin (or is not
// an http(s) URL at all), so fuzzed jobs never leave the machine; `expectLocalOnly` holds the
// generators to that.
import fc from 'fast-check';
import { expect } from 'vitest';
import { parseTarget } from '../../src/lib/normalize-url';
import { origin } from './api';

/** A JSON number written exactly as given (`1e308`, `-0`, `1E400`): JSON.stringify respells. */
export class RawNumber {
  constructor(readonly text: string) {}
}

/** JSON text of a value that may hold RawNumbers. */
export function toJson(value: unknown): string {
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const SPELLINGS = [
  ...['9e15', '1e308', '-1e308', '1E400', '-0', '-0.0', '0', '1', '-1', '1.5', '0.1', '1e-7'],
  ...['5e-324', '9007199254740993', '1e2', '20.0', '604800000', '604800001', '6.048e8', '99'],
  ...['100', '120000', '120001', '1000', '1001', '50000000', '50000001', '600000', '3600001'],
];

/** Numbers at and around every limit, beyond what a double holds, and odd spellings. */
export const nastyNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...SPELLINGS).map((t) => new RawNumber(t)),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
);

/** A value of the wrong type for any field, number-like strings included. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '9e15', '1e308', '-0', '', '10', 'true'),
  fc.string({ maxLength: 12 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);

/** A string with a lone surrogate in it (what a `\ud800` escape without its pair parses to). */
export const loneSurrogate: fc.Arbitrary<string> = fc
  .tuple(
    fc.string({ maxLength: 4 }),
    fc.integer({ min: 0xd800, max: 0xdfff }),
    fc.string({ maxLength: 4 }),
  )
  .map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`);

const int = (min: number, max: number) => fc.integer({ min, max });

/** Pages of the local origin that answer within 150 ms and are not retried (unless timed out). */
const QUICK_PATHS = [
  '/page?title=F&links=2',
  '/text',
  '/json',
  '/status/404',
  '/nope',
  '/delay?ms=150',
];

/** A URL of the local origin: only its query, fragment and spelling vary. */
export const localUrl: fc.Arbitrary<string> = fc
  .record({
    path: fc.constantFrom(...QUICK_PATHS),
    query: fc.option(fc.string({ unit: 'binary', maxLength: 12 }), { nil: undefined }),
    spelling: fc.constantFrom('plain', 'upper-scheme', 'fragment', 'spaces'),
  })
  .map(({ path, query, spelling }) => {
    const q = query === undefined ? '' : `${path.includes('?') ? '&' : '?'}q=${query}`;
    const url = origin(`${path}${q}`);
    if (spelling === 'upper-scheme') return url.replace('http:', 'HTTP:');
    if (spelling === 'fragment') return `${url}#dup`;
    return spelling === 'spaces' ? `  ${url}\t` : url;
  });

/** Spellings of one URL that normalise to it: the job keeps the first, counts the others. */
const RESPELL: ((url: string) => string)[] = [
  (u) => u,
  (u) => `${u}#again`,
  (u) => u.replace(/^http:/i, 'HtTp:'),
  (u) => ` ${u} `,
];

/** 1..3 local URLs, and now and then the same again in another spelling. */
const localUrls: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.array(localUrl, { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(RESPELL.length - 1)), { maxLength: 2 }),
  )
  .map(([urls, copies]) => [
    ...urls,
    ...copies.map(([i, how]) => (RESPELL[how] ?? String)(urls[i % urls.length] ?? '')),
  ]);

const NOT_HTTP = [
  '',
  ' ',
  'ftp://127.0.0.1/x',
  'http://',
  '//127.0.0.1/x',
  'http:127.0.0.1/x',
  'javascript:alert(1)',
  'http://user:pw@127.0.0.1/',
  'http://[::1',
  'http://a b/',
  'http://%zz/',
  'http://1.2.3.4.5/',
  'https://127.0.0.1:99999/',
  'mailto:x@example.invalid',
  'x'.repeat(9_000),
];

/** What is not a URL a job may fetch (or is the local origin's, oddly spelled). */
export const notHttpUrl: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NOT_HTTP),
  fc.constant(origin(`/text?${'a'.repeat(8_200)}`)),
  // Not spelled as usual, but a URL all the same (`http:///h` is `http://h/`): the local one.
  fc.constant(origin('/text').replace('http://', 'http:///')),
  fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !/^\s*https?:/i.test(s)),
  wrongType,
);

const VALID_SELECTORS = ['h1', 'title', 'a[href]', 'div > p', 'p:nth-child(2)', 'meta[name="x"]'];

/** A job that POST /v1/jobs accepts: 1..3 local URLs, every other field absent or valid. */
export const validSpec: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    urls: localUrls,
    concurrency: int(1, 1000),
    perHostConcurrency: int(1, 1000),
    timeoutMs: int(100, 120_000),
    deadlineMs: int(1, 604_800_000),
    retry: fc.record(
      // Any base up to the default maximum and any maximum from it: valid with or without the other.
      { maxAttempts: int(1, 10), baseDelayMs: int(0, 30_000), maxDelayMs: int(30_000, 3_600_000) },
      { requiredKeys: [] },
    ),
    mode: fc.constantFrom('settle', 'failFast'),
    maxBytes: int(1, 50_000_000),
    respectRobots: fc.boolean(),
    extract: fc.record(
      {
        selectors: fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }),
          fc.constantFrom(...VALID_SELECTORS),
          {
            maxKeys: 3,
          },
        ),
      },
      { requiredKeys: [] },
    ),
    callbackUrl: fc.constant(origin('/hook?tag=fuzz')),
  },
  { requiredKeys: ['urls'] },
);

const badUrls = fc.oneof(
  fc.array(fc.oneof(localUrl, notHttpUrl), { maxLength: 4 }),
  fc.constant(Array.from({ length: 40 }, (_, i) => `nope-${i}`)),
  wrongType,
);

const badSelectors = fc.oneof(
  fc.dictionary(
    fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('__proto__', 'constructor', 'x'.repeat(101)),
    ),
    fc.oneof(
      fc.constantFrom('::x', '[', ' ', '', 'a'.repeat(501), 'h1 >', ':has(a)'),
      fc.string({ unit: 'binary', maxLength: 10 }),
      wrongType,
    ),
    { minKeys: 1, maxKeys: 3 },
  ),
  fc.constant(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`s${i}`, 'h1']))),
  wrongType,
);

const NUMBER_FIELDS = [
  ...['concurrency', 'perHostConcurrency', 'timeoutMs', 'deadlineMs', 'maxBytes'],
  ...['retry.maxAttempts', 'retry.baseDelayMs', 'retry.maxDelayMs'],
];
const TYPO_FIELDS = ['concurency', 'url', 'Urls', 'deadline', 'extra', 'constructor', '__proto__'];

/** One flaw to put in a valid job: a field's value replaced, or a field added. */
const flaw: fc.Arbitrary<[string, unknown]> = fc.oneof(
  {
    arbitrary: fc.tuple(fc.constantFrom(...NUMBER_FIELDS), fc.oneof(nastyNumber, wrongType)),
    weight: 5,
  },
  { arbitrary: fc.tuple(fc.constant('urls'), badUrls), weight: 2 },
  { arbitrary: fc.tuple(fc.constant('extract.selectors'), badSelectors), weight: 1 },
  {
    arbitrary: fc.tuple(fc.constantFrom('retry', 'extract', 'respectRobots'), wrongType),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(fc.constant('mode'), fc.oneof(fc.constant('SETTLE'), wrongType)),
    weight: 1,
  },
  { arbitrary: fc.tuple(fc.constant('callbackUrl'), notHttpUrl), weight: 1 },
  {
    arbitrary: fc.tuple(fc.constantFrom(...TYPO_FIELDS), fc.jsonValue({ maxDepth: 1 })),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(
      fc.constantFrom('urls', 'extract.selectors', 'mode'),
      loneSurrogate.map((s) => [origin(`/text?q=${s}`)]),
    ),
    weight: 1,
  },
);

/** Sets `path` (dotted) in a copy of `obj`, making the objects on the way. */
function withField(
  obj: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const [head = '', ...rest] = path.split('.');
  const out = { ...obj };
  const inner = out[head];
  const next =
    rest.length === 0
      ? value
      : withField(
          inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : {},
          rest.join('.'),
          value,
        );
  // defineProperty: a `__proto__` field must be an own field of the body, not its prototype.
  Object.defineProperty(out, head, {
    value: next,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return out;
}

/**
 * A body shaped like a POST /v1/jobs spec: a valid job with up to two flaws (a nasty number,
 * a wrong type, a bad URL or selector, an unknown field). Flaws may cancel out: `1e2` is 100.
 */
export const jobSpec: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(validSpec, fc.array(flaw, { minLength: 1, maxLength: 2 }))
  .map(([spec, flaws]) => flaws.reduce((out, [path, value]) => withField(out, path, value), spec));

/** Nesting far deeper than any field allows, at the top or inside a field. */
const deepText: fc.Arbitrary<string> = fc
  .tuple(int(1, 3_000), fc.constantFrom('top', 'urls', 'selectors', 'retry'))
  .map(([n, where]) => {
    const deep = `${'['.repeat(n)}${']'.repeat(n)}`;
    if (where === 'top') return deep;
    if (where === 'urls') return `{"urls":${deep}}`;
    if (where === 'retry') return `{"urls":["${origin('/text')}"],"retry":${deep}}`;
    return `{"urls":["${origin('/text')}"],"extract":{"selectors":{"a":${deep}}}}`;
  });

/** Text that is not JSON, or JSON with a flaw a lenient parser would forgive. */
const notJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '{', '{"urls": [', '\uFEFF{"urls":[]}', "{'urls': []}", '{"urls": [],}'),
  fc.constantFrom('NaN', 'undefined', '{"deadlineMs": NaN}', '{"deadlineMs": Infinity}'),
);

/** The text of a POST body: a spec, any JSON value, deep nesting, or not JSON at all. */
export const jobBodyText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: jobSpec.map(toJson), weight: 6 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'), weight: 2 },
  { arbitrary: deepText, weight: 1 },
  { arbitrary: notJsonText, weight: 1 },
);

/** Throws if a body would make a job fetch anything but the local origin. */
export function expectLocalOnly(text: string): void {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return;
  }
  const local = new URL(origin('/')).host;
  const seen: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      const t = parseTarget(v);
      if (t.ok) seen.push(t.host);
    } else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(body);
  for (const host of seen) expect(host, `a generated URL left the machine: ${text}`).toBe(local);
}

const NAMES = ['nightly', '  padded  ', '\u00e9t\u00e9 \u{1F600}', 'x'.repeat(200)];
const BAD_NAMES = ['', ' ', '\t\n', 'x'.repeat(201), 'a\ud800b'];
const CRONS = ['0 0 1 1 *', '*/5 * * * *', '0 12 * * mon-fri', '0 0 29 2 *', ' 0  0 1   1 * '];
/** Crons the syntax check refuses, and crons it passes that croner refuses or that never fire. */
const BAD_CRON_SYNTAX = [
  ...['* * * * * *', '@daily', 'L * * * *', '0 0 ? * *', '0 0 1W * *', '0 0 * * 5#3'],
  ...['x'.repeat(201), '', '*/100 * * * *', '0 0 1 1'],
];
const BAD_CRON_VALUES = [
  ...['99 * * * *', '5-1 * * * *', '* * * * 8', '0 0 0 * *', '0 24 * * *', '60 * * * *'],
  ...['*/0 * * * *', '0 0 31 2 *', '0 0 30 2 *', '0 0 * 13 *', '0 0 * foo *', '1,2 3-4 * jan sun'],
];

/** A schedule POST /v1/schedules accepts: a name, a cron that fires, a valid job. */
export const validSchedule = fc.record({
  name: fc.oneof(
    fc.constantFrom(...NAMES),
    fc.string({ minLength: 1, maxLength: 10 }).filter((n) => n.trim() !== ''),
  ),
  cron: fc.constantFrom(...CRONS),
  job: validSpec,
});

const badCron = fc.oneof(
  { arbitrary: fc.constantFrom(...BAD_CRON_VALUES), weight: 3 },
  { arbitrary: fc.constantFrom(...BAD_CRON_SYNTAX), weight: 2 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  { arbitrary: wrongType, weight: 1 },
);
const scheduleFlaw: fc.Arbitrary<[string, unknown]> = fc.oneof(
  {
    arbitrary: fc.tuple(
      fc.constant('name'),
      fc.oneof(fc.constantFrom(...BAD_NAMES), loneSurrogate, wrongType),
    ),
    weight: 2,
  },
  { arbitrary: fc.tuple(fc.constant('cron'), badCron), weight: 3 },
  {
    arbitrary: fc.tuple(fc.constant('job'), fc.oneof(jobSpec, fc.jsonValue({ maxDepth: 2 }))),
    weight: 2,
  },
  {
    arbitrary: fc.tuple(fc.constantFrom('name', 'cron', 'job'), fc.constant(undefined)),
    weight: 1,
  },
  {
    arbitrary: fc.tuple(
      fc.constantFrom('jobs', 'schedule', '__proto__'),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    weight: 1,
  },
);

/** A body shaped like a POST /v1/schedules: a valid schedule with up to two flaws. */
export const scheduleBodyText: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc
      .tuple(validSchedule, fc.array(scheduleFlaw, { minLength: 1, maxLength: 2 }))
      .map(([body, flaws]) => {
        const start: Record<string, unknown> = body;
        return toJson(flaws.reduce((out, [k, v]) => withField(out, k, v), start));
      }),
    weight: 6,
  },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'), weight: 1 },
  { arbitrary: deepText, weight: 1 },
  { arbitrary: notJsonText, weight: 1 },
);

/** A body shaped like PATCH /v1/jobs/:id: `deadlineMs` of any value, other fields, or not JSON. */
export const patchBodyText: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc
      .oneof(
        { arbitrary: int(1, 604_800_000), weight: 4 },
        { arbitrary: nastyNumber, weight: 2 },
        { arbitrary: wrongType, weight: 1 },
      )
      .map((d) => toJson({ deadlineMs: d })),
    weight: 6,
  },
  {
    arbitrary: fc
      .tuple(nastyNumber, fc.constantFrom(...TYPO_FIELDS), fc.jsonValue({ maxDepth: 1 }))
      .map(([d, k, v]) => `{"deadlineMs":${toJson(d)},${JSON.stringify(k)}:${toJson(v)}}`),
    weight: 1,
  },
  { arbitrary: fc.constant(`{"deadlineMs": 5000${' '.repeat(4_100)}}`), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'), weight: 1 },
  { arbitrary: fc.oneof(deepText, notJsonText), weight: 1 },
);
