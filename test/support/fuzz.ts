// Requests for the route fuzzing of test/worker/fuzz.test.ts (methods, paths, ids, queries,
// headers, callers; bodies come from fuzz-bodies.ts), how they are sent, and the check every
// answer must pass.
import { exports } from 'cloudflare:workers';
import fc from 'fast-check';
import { expect } from 'vitest';
import { TOKEN } from './api';
import { patchBodyText } from './fuzz-bodies';

const int = (min: number, max: number) => fc.integer({ min, max });

/** The error codes of the envelope and the status each one goes with (src/middleware/errors.ts). */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** How a body travels: a string, bytes (no Content-Type of its own), a stream (no length). */
export type BodyMode = 'string' | 'bytes' | 'stream' | 'bad-utf8';
export const bodyMode: fc.Arbitrary<BodyMode> = fc.constantFrom(
  'string',
  'string',
  'bytes',
  'stream',
  'bad-utf8',
);

/** A Content-Length: absent, true, off from the real length by a little, or any text at all. */
export type LengthHeader = { off: number } | { text: string } | undefined;
export const goodLength: fc.Arbitrary<LengthHeader> = fc.constantFrom(undefined, { off: 0 });
export const badLength: fc.Arbitrary<LengthHeader> = fc.oneof(
  fc.constantFrom(-3, -1, 1, 3).map((off) => ({ off })),
  fc
    .constantFrom('0', 'abc', '-1', '1e9', '16777217', '4097', ' 12 ', '9'.repeat(30), '0x10')
    .map((text) => ({ text })),
);
export const lengthHeader: fc.Arbitrary<LengthHeader> = fc.oneof(
  { arbitrary: goodLength, weight: 3 },
  { arbitrary: badLength, weight: 2 },
);

/** Content-Types that the API takes for JSON, and others. */
export const jsonType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
);
export const otherType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  '',
  'application/jsonx',
  'application/json-patch+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
);
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: jsonType, weight: 2 },
  { arbitrary: otherType, weight: 1 },
);

/** Header values a fetch client can send: printable ASCII (workerd warns on anything else). */
export const headerText: fc.Arbitrary<string> = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 30,
});

/** An Authorization header: whether it names a caller, and whether that caller is the admin. */
export interface Auth {
  header: string | undefined;
  ok: boolean;
  admin: boolean;
}

/** Stands for the token of the API key the fuzz file creates (`useKeyToken`); `send` swaps it. */
const KEY_AUTH = 'Bearer <the fuzz API key>';
let keyToken = '';

/** The fuzz file's API key as a caller. */
export const KEY_CALLER: Auth = { header: KEY_AUTH, ok: true, admin: false };

/** Makes requests that generators gave the API key's Authorization carry its real token. */
export function useKeyToken(token: string): void {
  keyToken = token;
}
const GOOD_AUTH = [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `Bearer   ${TOKEN}  `];
const BAD_AUTH = [
  undefined,
  'Bearer',
  'Bearer ',
  'Bearer wrong',
  `Bearer ${TOKEN}x`,
  `Basic ${btoa(TOKEN)}`,
];
/** The admin (three spellings), or, one time in four, the API key of the fuzz file. */
export const goodAuth: fc.Arbitrary<Auth> = fc.oneof(
  {
    arbitrary: fc.constantFrom(...GOOD_AUTH).map((header) => ({ header, ok: true, admin: true })),
    weight: 3,
  },
  { arbitrary: fc.constant(KEY_CALLER), weight: 1 },
);
export const badAuth: fc.Arbitrary<Auth> = fc
  .oneof(
    fc.constantFrom(...BAD_AUTH),
    headerText.filter((s) => s.trim() !== TOKEN).map((s) => `Bearer ${s}`),
    fc.constantFrom(`Token ${TOKEN}`, TOKEN),
  )
  .map((header) => ({ header, ok: false, admin: false }));
export const auth: fc.Arbitrary<Auth> = fc.oneof(
  { arbitrary: goodAuth, weight: 8 },
  { arbitrary: badAuth, weight: 1 },
);

export const accept: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'application/json',
  'application/x-ndjson',
  'application/x-ndjson, application/json;q=0.5',
  'text/event-stream',
  'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
  '*/*',
);

/** Ways to send a body that the API reads whole. */
export const goodMode: fc.Arbitrary<BodyMode> = fc.constantFrom('string', 'bytes', 'stream');

/**
 * A request's parts, each drawn from `valid` but for 1..`max` of them (three times in four)
 * drawn from `any`: most requests then pass every check but one or two, which is where a
 * refusal must be exact, and a quarter or more are accepted.
 */
export function mostlyValid<T extends Record<string, unknown>>(
  valid: { [K in keyof T]: fc.Arbitrary<T[K]> },
  any: { [K in keyof T]: fc.Arbitrary<T[K]> },
  max = 2,
): fc.Arbitrary<T> {
  // The body's text counts three times: most of what can be wrong with a request is in there.
  const keys = Object.keys(valid) as (keyof T & string)[];
  const names = keys.flatMap((k) => (k === 'text' ? [k, k, k] : [k]));
  return fc
    .record({
      v: fc.record(valid) as fc.Arbitrary<T>,
      a: fc.record(any) as fc.Arbitrary<T>,
      flawed: fc.oneof(
        { arbitrary: fc.constant([]), weight: 1 },
        { arbitrary: fc.subarray(names, { minLength: 1, maxLength: max }), weight: 3 },
      ),
    })
    .map(({ v, a, flawed }) => {
      const out: T = { ...v };
      for (const name of new Set(flawed)) out[name] = a[name];
      return out;
    });
}

/** A request, as the fuzz properties describe it before it is built. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body?: { text: string; mode: BodyMode; length?: LengthHeader };
}

function bodyInit(text: string, mode: BodyMode): BodyInit {
  const bytes = new TextEncoder().encode(text);
  if (mode === 'string') return text;
  if (mode === 'bytes') return bytes;
  if (mode === 'bad-utf8') return new Uint8Array([...bytes, 0xff, 0xc3, 0x28]);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      // Two chunks, split inside the text, so a reader must join them.
      const cut = Math.floor(bytes.length / 2);
      controller.enqueue(bytes.slice(0, cut));
      controller.enqueue(bytes.slice(cut));
      controller.close();
    },
  });
}

/** Builds and sends a FuzzRequest through the worker's own fetch handler. */
export function send(r: FuzzRequest): Promise<Response> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(r.headers)) {
    if (value !== undefined) headers.set(name, value === KEY_AUTH ? `Bearer ${keyToken}` : value);
  }
  let body: BodyInit | undefined;
  if (r.body) {
    body = bodyInit(r.body.text, r.body.mode);
    const length = r.body.length;
    if (length && 'off' in length) {
      const bytes = new TextEncoder().encode(r.body.text).byteLength;
      headers.set('content-length', String(Math.max(0, bytes + length.off)));
    } else if (length) headers.set('content-length', length.text);
  }
  const init = { method: r.method, headers, body, duplex: 'half' } as RequestInit;
  return exports.default.fetch(new Request(`http://api.test${r.path}`, init));
}

/** A request's one-line description for assertion messages. */
export function describeRequest(r: FuzzRequest): string {
  // JSON.stringify escapes lone surrogates: the test runner's channel carries only UTF-8.
  const body = r.body ? ` body(${r.body.mode}) ${JSON.stringify(r.body.text.slice(0, 300))}` : '';
  return `${r.method} ${JSON.stringify(r.path.slice(0, 300))} ${JSON.stringify(r.headers)}${body}`;
}

/** The error envelope of a non-2xx answer. */
export interface Envelope {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

/** What an answer gave: its status, two of its headers, and its JSON body when it has one. */
export interface Answer {
  status: number;
  location: string | null;
  wwwAuthenticate: string | null;
  json: unknown;
}

/** Reads a 2xx body: JSON parsed, NDJSON parsed line by line, anything else cancelled. */
async function successBody(r: FuzzRequest, res: Response, what: string): Promise<unknown> {
  const type = res.headers.get('content-type') ?? '';
  if (r.method === 'HEAD') {
    await res.body?.cancel();
    return undefined;
  }
  if (/^application\/json\b/.test(type)) return JSON.parse(await res.text());
  // A followed stream of a running job ends only with the job: its head is what counts here.
  const follow = new URL(r.path, 'http://x').searchParams.get('follow') === 'true';
  if (type === 'application/x-ndjson; charset=utf-8' && !follow) {
    const text = new TextDecoder().decode(await res.arrayBuffer());
    const lines = text.split('\n').filter((l) => l !== '');
    return lines.map((l) => JSON.parse(l) as unknown);
  }
  // Under /v1 a 2xx is JSON or one of the two streams; pages outside it (docs) may be anything.
  if (new URL(r.path, 'http://x').pathname.startsWith('/v1/')) {
    expect(type, what).toMatch(/^(text\/event-stream|application\/x-ndjson); charset=utf-8$/);
  }
  await res.body?.cancel();
  return undefined;
}

/**
 * The properties every answer has: never a 5xx; a 2xx body that is what its Content-Type says;
 * anything else exactly the error envelope, with a known code that matches the status.
 */
export async function checkAnswer(r: FuzzRequest, res: Response): Promise<Answer> {
  const what = describeRequest(r);
  const head = {
    status: res.status,
    location: res.headers.get('location'),
    wwwAuthenticate: res.headers.get('www-authenticate'),
  };
  expect(res.status, what).toBeLessThan(500);
  if (res.status >= 200 && res.status < 300) {
    expect([200, 201, 202], what).toContain(res.status);
    return { ...head, json: await successBody(r, res, what) };
  }
  expect(res.headers.get('content-type'), what).toMatch(/^application\/json\b/);
  const text = await res.text();
  if (r.method === 'HEAD') {
    expect(text, what).toBe('');
    return { ...head, json: undefined };
  }
  const body = JSON.parse(text) as Envelope;
  expect(Object.keys(body), what).toEqual(['error']);
  const { code, message, details, ...rest } = body.error;
  expect(rest, what).toEqual({});
  expect({ code, status: ERROR_STATUS[code] }, what).toEqual({ code, status: res.status });
  expect(message, what).toMatch(/\S/);
  for (const d of details ?? []) {
    expect(Object.keys(d).sort(), what).toEqual(['message', 'path']);
    expect([typeof d.path, typeof d.message], what).toEqual(['string', 'string']);
  }
  return { ...head, json: body };
}

/** Ids and cursors that name real things, so that generated requests reach past the 404s. */
export interface Known {
  jobs: string[];
  schedules: string[];
  cursors: string[];
}

const ALNUM = [...'0123456789abcdefghijklmnopqrstuvwxyz'];
const chars = (set: string[], n: number) =>
  fc.string({ unit: fc.constantFrom(...set), minLength: n, maxLength: n });

/** Percent-encodes every byte of a string's UTF-8 (lone surrogates become U+FFFD). */
function encodeAll(s: string): string {
  return [...new TextEncoder().encode(s)]
    .map((b) => `%${b.toString(16).padStart(2, '0')}`)
    .join('');
}

const ODD_SEGMENTS = [
  '%zz',
  '%',
  '..',
  '%2e%2e',
  '%00',
  '%2F',
  '%E0%A4%A',
  '%C0%AF',
  '+',
  ' ',
  ';x',
];

/** A path segment where an id goes: a real id, respelled, a valid-looking stranger, junk. */
function idSegment(known: string[], prefix: string): fc.Arbitrary<string> {
  const real = fc.constantFrom(...known);
  return fc.oneof(
    { arbitrary: real, weight: 10 },
    { arbitrary: chars(ALNUM, 21).map((s) => `${prefix}${s}`), weight: 2 },
    { arbitrary: chars([...'0123456789abcdef'], 24).map((s) => `k${s}`), weight: 1 },
    { arbitrary: real.map(encodeAll), weight: 1 },
    { arbitrary: real.map((id) => id.toUpperCase()), weight: 1 },
    { arbitrary: real.map((id) => `${id.slice(0, -1)}%20`), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map(encodeAll), weight: 1 },
    { arbitrary: fc.constantFrom(...ODD_SEGMENTS, 'j'.repeat(5_000)), weight: 1 },
  );
}

/** The routes there are, and paths next to them that are none. */
const ROUTES = [
  ...['/', '/v1/jobs', '/v1/jobs/{j}', '/v1/jobs/{j}/results', '/v1/jobs/{j}/events'],
  ...['/v1/jobs/{j}/attempts', '/v1/jobs/{j}/redrive', '/v1/schedules', '/v1/schedules/{s}'],
  ...['/v1/keys', '/v1/keys/{s}', '/openapi.json', '/docs', '/jobs/{j}'],
];
const NOT_ROUTES = [
  ...[
    '',
    '/v1',
    '/v1/',
    '/v1/jobs/',
    '/v1/jobs/{j}/',
    '/v1/jobs/{j}/nope',
    '/v1/jobs/{j}/results/x',
  ],
  ...['/v1/schedules/', '/v1/schedules/{s}/runs', '/v2/jobs', '//v1/jobs', '/V1/JOBS'],
  ...['/v1/jobs/{j}/../../schedules', '/favicon.ico', '/{j}', '/v1/{j}'],
];

const QUERY_VALUES = [
  ...['', '0', '1', '5', '100', '101', '1000', '1001', '-1', '1.5', '1e2', 'abc', '9e15'],
  ...[
    '%205',
    '0x10',
    '%zz',
    'true',
    'false',
    'TRUE',
    '1e400',
    btoa('s0'),
    btoa('s9999999999999999'),
  ],
  ...[btoa('a0.0'), btoa('a1.99999'), btoa(`${'9'.repeat(15)}.zzzz`), btoa('1.s0'), '=', '%3D%3D'],
];

function query(known: Known): fc.Arbitrary<string> {
  const plausible = fc
    .record(
      {
        limit: int(1, 100).map(String),
        cursor: fc.constantFrom(...known.cursors),
        follow: fc.constantFrom('true', 'false'),
        purge: fc.constantFrom('true', 'false'),
      },
      { requiredKeys: [] },
    )
    .map((q) => Object.entries(q).map(([k, v]) => [k, v] as const));
  const value = fc.oneof(
    fc.constantFrom(...QUERY_VALUES),
    fc.constantFrom(...known.cursors),
    fc.string({ unit: 'binary', maxLength: 12 }).map(encodeAll),
  );
  const name = fc.constantFrom(
    'limit',
    'limit',
    'cursor',
    'cursor',
    'follow',
    'wait',
    'purge',
    'x',
  );
  const junk = fc.array(fc.tuple(name, value), { maxLength: 4 });
  return fc
    .oneof({ arbitrary: plausible, weight: 3 }, { arbitrary: junk, weight: 2 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
}

const method = fc.oneof(
  { arbitrary: fc.constant('GET'), weight: 8 },
  {
    arbitrary: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PURGE'),
    weight: 4,
  },
);
const route = fc.oneof(
  { arbitrary: fc.constantFrom(...ROUTES), weight: 4 },
  { arbitrary: fc.constantFrom(...NOT_ROUTES), weight: 1 },
);

/** A request to some route, its caller, and the job id segment of its path if it has one. */
export interface RouteCase {
  req: FuzzRequest;
  auth: Auth;
  jobSegment?: string;
}

/** Any method on any route (and a few that are none), with ids, queries, headers and bodies. */
export function routeRequest(known: Known): fc.Arbitrary<RouteCase> {
  const body = fc.record({
    text: fc.oneof(
      patchBodyText,
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
    ),
    mode: bodyMode,
    length: lengthHeader,
  });
  return fc
    .record({
      method,
      route,
      job: idSegment(known.jobs, 'j'),
      schedule: idSegment(known.schedules, 's'),
      query: query(known),
      auth,
      accept,
      contentType,
      key: fc.option(headerText, { freq: 4, nil: undefined }),
      body: fc.option(body, { freq: 4, nil: undefined }),
    })
    .map((g) => {
      const jobSegment = g.route.startsWith('/v1/jobs/{j}') ? g.job : undefined;
      const path = g.route.replace('{j}', g.job).replace('{s}', g.schedule) + g.query;
      const hasBody = g.body !== undefined && g.method !== 'GET' && g.method !== 'HEAD';
      const req: FuzzRequest = {
        method: g.method,
        path,
        headers: {
          authorization: g.auth.header,
          accept: g.accept,
          'content-type': hasBody ? g.contentType : undefined,
          'idempotency-key': g.key,
        },
        body: hasBody ? g.body : undefined,
      };
      return { req, auth: g.auth, jobSegment };
    });
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `text` with each lone surrogate written as `\uXXXX`: the test runner's channel is UTF-8. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDFFF]/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * A property's check whose failures can be reported: fuzzed strings hold lone surrogates, and
 * an assertion message carrying one would break the runner's channel instead of failing.
 */
export function reportable<A extends unknown[]>(
  check: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await check(...args);
    } catch (err) {
      const e = (err instanceof Error ? err : new Error(String(err))) as Error & {
        actual?: unknown;
        expected?: unknown;
      };
      const diff =
        'expected' in e ? `\n  expected: ${show(e.expected)}\n  actual:   ${show(e.actual)}` : '';
      const clean = new Error(wellFormed(`${e.message}${diff}`));
      clean.stack = wellFormed(e.stack ?? '');
      throw clean;
    }
  };
}
