import { z } from 'zod';
import { validateSelector } from '../fetch/extract';
import { isJobId } from '../lib/ids';
import { parseTarget } from '../lib/normalize-url';
import { isPrivateHost } from '../lib/ssrf';
import type { RenderSpec } from '../render/protocol';
import type { JobSpec } from './types';

export const LIMITS = {
  maxConcurrency: 1000,
  maxTimeoutMs: 120_000,
  maxDeadlineMs: 7 * 24 * 3_600_000,
  maxAttempts: 10,
  maxSelectors: 20,
  maxMaxBytes: 50_000_000,
  maxRenderConcurrency: 10,
} as const;

/** Browser tabs of a rendering job that does not say (`renderConcurrency`). */
export const DEFAULT_RENDER_CONCURRENCY = 2;

/** MAX_URLS_PER_JOB when the environment does not set it. */
const DEFAULT_MAX_URLS = 100_000;

const int = (min: number, max: number) => z.int().min(min).max(max);
/** A whole-job deadline in ms from creation: in a new job, and in a PATCH that moves it. */
const deadlineField = int(1, LIMITS.maxDeadlineMs);

const selectorsSchema = z
  .record(z.string().min(1).max(100), z.string().min(1).max(500))
  .refine((s) => Object.keys(s).length <= LIMITS.maxSelectors, {
    message: `at most ${LIMITS.maxSelectors} selectors`,
  })
  .superRefine((selectors, ctx) => {
    for (const [name, sel] of Object.entries(selectors)) {
      const problem = validateSelector(sel);
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }
  });

/**
 * Request headers a job may not set: the transport's own (framing, hop-by-hop, the target) and
 * `user-agent`, which has its own field.
 */
const SERVICE_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'user-agent',
]);

/** An HTTP header name: an RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]{1,100}$/;

/** Up to 20 request headers: valid HTTP token names, values of at most 1,000 characters. */
const headersSchema = z
  .record(
    z.string(),
    z
      .string()
      .max(1000)
      .refine((v) => !/[\r\n\0]/.test(v), { message: 'must not hold CR, LF or NUL' }),
  )
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers).map((n) => n.toLowerCase());
    if (names.length > 20) ctx.addIssue({ code: 'custom', message: 'at most 20 headers' });
    names.forEach((name, i) => {
      if (!HEADER_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'not an HTTP header name' });
      } else if (SERVICE_HEADERS.has(name)) {
        const why = name === 'user-agent' ? 'use the userAgent field' : 'set by the service';
        ctx.addIssue({ code: 'custom', path: [name], message: `not allowed here (${why})` });
      } else if (names.indexOf(name) !== i) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'given twice' });
      }
    });
  });

/** When to render: `true` every page, `"auto"` pages a static fetch finds script-built. */
export const renderMode = z.union([z.boolean(), z.literal('auto')]);

/** `render` as an object: a mode, and how a rendered page is loaded. */
export const renderObject = z.strictObject({
  mode: renderMode,
  waitUntil: z.enum(['load', 'domcontentloaded', 'networkidle0']).default('load'),
  waitForSelector: z
    .string()
    .min(1)
    .max(500)
    .refine((s) => s.trim() !== '', { message: 'empty selector' })
    .optional(),
  blockResources: z.boolean().default(true),
});

const renderSchema = z.union([renderMode, renderObject]);

/** A job's `render` as given, as the spec holds it: null when pages are only fetched. */
export function renderSpec(given: z.output<typeof renderSchema>): RenderSpec | null {
  const refined = typeof given === 'object' ? given : null;
  const mode = refined?.mode ?? given;
  if (mode === false) return null;
  return {
    mode: mode === 'auto' ? 'auto' : 'always',
    waitUntil: refined?.waitUntil ?? 'load',
    waitForSelector: refined?.waitForSelector ?? null,
    blockResources: refined?.blockResources ?? true,
  };
}

const httpUrl = z.string().refine((u) => parseTarget(u).ok, { message: 'not an http(s) URL' });

/** The body of POST /v1/jobs, minus `urls` (validated separately: it can hold 100,000 items). */
export const jobOptionsSchema = z.strictObject({
  urls: z.array(z.unknown()),
  concurrency: int(1, LIMITS.maxConcurrency).default(20),
  perHostConcurrency: int(1, LIMITS.maxConcurrency).optional(),
  perHostDelayMs: int(0, 60_000).default(0),
  timeoutMs: int(100, LIMITS.maxTimeoutMs).default(10_000),
  deadlineMs: deadlineField.optional(),
  retry: z
    .strictObject({
      maxAttempts: int(1, LIMITS.maxAttempts).default(3),
      baseDelayMs: int(0, 600_000).default(500),
      maxDelayMs: int(0, 3_600_000).default(30_000),
    })
    .default({ maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 }),
  mode: z.enum(['settle', 'failFast']).default('settle'),
  maxFailures: z
    .union([
      z.int().min(0).max(10_000_000),
      z.string().regex(/^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)%$/, {
        message: 'a count >= 0, or a percentage "N%" from 0 to 100 with up to two decimals',
      }),
    ])
    .optional(),
  maxBytes: int(1, LIMITS.maxMaxBytes).default(5_000_000),
  respectRobots: z.boolean().default(false),
  extract: z
    .strictObject({
      selectors: selectorsSchema.default({}),
      links: z.boolean().default(false),
      meta: z.boolean().default(false),
    })
    .optional(),
  callbackUrl: httpUrl.optional(),
  headers: headersSchema.optional(),
  userAgent: z
    .string()
    .min(1)
    .max(300)
    .refine((v) => !/[\r\n\0]/.test(v), { message: 'must not hold CR, LF or NUL' })
    .optional(),
  compareWith: z.string().refine(isJobId, { message: 'not a job id' }).optional(),
  notify: z.enum(['always', 'changes']).default('always'),
  store: z.strictObject({ bodies: z.boolean().default(false) }).optional(),
  render: renderSchema.default(false),
  renderConcurrency: int(1, LIMITS.maxRenderConcurrency).default(DEFAULT_RENDER_CONCURRENCY),
});

export interface Issue {
  path: string;
  message: string;
}

type ParsedJob =
  | { ok: true; spec: JobSpec; urls: string[]; norms: string[] }
  | { ok: false; issues: Issue[] };

const MAX_ISSUES = 20;

/** Renders a zod/field path the way the API names fields: `retry.maxAttempts`, `urls[3]`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(body)';
}

/** The issue of a body that is not a JSON object (an array, null, a scalar); null for an object. */
export function notAnObject(body: unknown): Issue | null {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return null;
  return { path: '(body)', message: 'expected a JSON object' };
}

/** zod's issues as the API names them: field paths, and unknown fields listed by name. */
export function toIssues(issues: readonly z.core.$ZodIssue[]): Issue[] {
  return issues.map((i) => ({
    path: formatPath(i.path),
    message: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message,
  }));
}

/** The one-line message for a body's issues: the first one, `path: message` (`prefix` first). */
export function firstIssueMessage(issues: readonly Issue[], fallback: string, prefix = ''): string {
  const first = issues[0];
  return first ? `${prefix}${first.path}: ${first.message}` : fallback;
}

/** What a deployment allows a job: its settings that validation depends on. */
export interface JobLimits {
  /** URLs one job may hold (MAX_URLS_PER_JOB, default 100,000). */
  maxUrls: number;
  /** ALLOW_PRIVATE_TARGETS: loopback and private targets (local development only). */
  allowPrivate: boolean;
}

/** The limits a deployment's settings give. */
export function jobLimits(env: Pick<Env, 'MAX_URLS_PER_JOB' | 'ALLOW_PRIVATE_TARGETS'>): JobLimits {
  return {
    maxUrls: Number(env.MAX_URLS_PER_JOB) || DEFAULT_MAX_URLS,
    allowPrivate: env.ALLOW_PRIVATE_TARGETS === 'true',
  };
}

/**
 * Why a callback URL may not be used, or null: where private targets are not allowed, a
 * callback must be https and must not name a private or local host.
 */
function callbackProblem(url: string, allowPrivate: boolean): string | null {
  if (allowPrivate) return null;
  const parsed = new URL(url);
  if (isPrivateHost(parsed.hostname)) return 'a private or local address is not allowed';
  if (parsed.protocol !== 'https:') return 'must be an https URL';
  return null;
}

/**
 * Where a job's name-to-value maps (selectors, headers) hold the key `__proto__`: JSON.parse
 * makes it an own key, but a validated copy turns it into the object's prototype, so the entry
 * would be dropped without a word.
 */
function prototypeKey(body: unknown): string | null {
  const b = body as { extract?: { selectors?: unknown }; headers?: unknown };
  const maps: Array<[string, unknown]> = [
    ['extract.selectors', b.extract?.selectors],
    ['headers', b.headers],
  ];
  for (const [path, map] of maps) {
    if (typeof map === 'object' && map !== null && Object.hasOwn(map, '__proto__')) {
      return `${path}.__proto__`;
    }
  }
  return null;
}

/** Validates a job body: every problem named by its field, defaults applied, URLs normalised. */
export function parseJob(body: unknown, limits: JobLimits): ParsedJob {
  const { maxUrls } = limits;
  const notObject = notAnObject(body);
  if (notObject) return { ok: false, issues: [notObject] };
  const parsed = jobOptionsSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, issues: toIssues(parsed.error.issues.slice(0, MAX_ISSUES)) };
  }
  const opts = parsed.data;
  const shadowed = prototypeKey(body);
  if (shadowed) return fail(shadowed, 'not a usable name (it names the object prototype)');
  const rawUrls = opts.urls;
  if (rawUrls.length === 0) return fail('urls', 'at least one URL is required');
  if (rawUrls.length > maxUrls) {
    return fail('urls', `at most ${maxUrls} URLs per job (got ${rawUrls.length})`);
  }
  const urls: string[] = [];
  const norms: string[] = [];
  const issues: Issue[] = [];
  for (let i = 0; i < rawUrls.length; i++) {
    const raw = rawUrls[i];
    if (typeof raw !== 'string') {
      issues.push({ path: `urls[${i}]`, message: 'expected a string' });
    } else {
      const target = parseTarget(raw);
      if (target.ok) {
        urls.push(target.url);
        norms.push(target.normalized);
      } else {
        issues.push({ path: `urls[${i}]`, message: target.message });
      }
    }
    if (issues.length >= MAX_ISSUES) break;
  }
  if (issues.length > 0) return { ok: false, issues };
  const spec: JobSpec = {
    concurrency: opts.concurrency,
    perHostConcurrency: opts.perHostConcurrency ?? opts.concurrency,
    perHostDelayMs: opts.perHostDelayMs,
    timeoutMs: opts.timeoutMs,
    deadlineMs: opts.deadlineMs ?? null,
    retry: opts.retry,
    mode: opts.mode,
    maxFailures: opts.maxFailures ?? null,
    maxBytes: opts.maxBytes,
    respectRobots: opts.respectRobots,
    extract: {
      selectors: opts.extract?.selectors ?? {},
      links: opts.extract?.links ?? false,
      meta: opts.extract?.meta ?? false,
    },
    callbackUrl: opts.callbackUrl ?? null,
    headers: opts.headers ?? {},
    userAgent: opts.userAgent ?? null,
    compareWith: opts.compareWith ?? null,
    notify: opts.notify,
    store: { bodies: opts.store?.bodies ?? false },
    render: renderSpec(opts.render),
    renderConcurrency: opts.renderConcurrency,
  };
  if (spec.mode === 'failFast' && spec.maxFailures !== null) {
    return fail(
      'maxFailures',
      'give mode "failFast" or maxFailures, not both (failFast is maxFailures 0)',
    );
  }
  const callback = spec.callbackUrl && callbackProblem(spec.callbackUrl, limits.allowPrivate);
  if (callback) return fail('callbackUrl', callback);
  if (spec.retry.maxDelayMs < spec.retry.baseDelayMs) {
    return fail('retry.maxDelayMs', 'must be at least retry.baseDelayMs');
  }
  return { ok: true, spec, urls, norms };
}

export const deadlinePatchSchema = z.strictObject({ deadlineMs: deadlineField });

/** Validates the body of PATCH /v1/jobs/:id: exactly `{"deadlineMs": n}`, n as in a new job. */
export function parseDeadlinePatch(
  body: unknown,
): { ok: true; deadlineMs: number } | { ok: false; issues: Issue[] } {
  const notObject = notAnObject(body);
  if (notObject) return { ok: false, issues: [notObject] };
  const parsed = deadlinePatchSchema.safeParse(body);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error.issues) };
  return { ok: true, deadlineMs: parsed.data.deadlineMs };
}

function fail(path: string, message: string): ParsedJob {
  return { ok: false, issues: [{ path, message }] };
}
