import { type Context, Hono } from 'hono';
import type { AppEnv } from '../app-env';
import type { ResultsPage } from '../coordinator/job-view';
import type { ResultFilter } from '../coordinator/url-store';
import { ERROR_KINDS, type Result } from '../jobs/types';
import { csvHeader, csvRow } from '../lib/csv';
import { ApiError } from '../middleware/errors';
import { coordinatorFor, found, ownerScope } from './job-stub';
import { NDJSON, ndjsonResponse, type StreamFormat } from './ndjson-stream';
import { parseLimit, readCursor } from './paging';

const STREAM_PAGE = 500;

/** RFC 4180 CSV: a header row (with the job's selectors), then one row per Result. */
const CSV: StreamFormat = {
  contentType: 'text/csv; charset=utf-8; header=present',
  head: (first) => csvHeader(first.selectors),
  page: (p) => p.bodies.map((b) => csvRow(JSON.parse(b) as Result, p.selectors)).join(''),
};

export const resultRoutes = new Hono<AppEnv>();

/**
 * Results in settlement order, optionally only ok or failed ones (`ok`), one error kind
 * (`kind`) or (un)changed ones (`changed`): a JSON page with a cursor, or all of them streamed
 * as NDJSON or CSV.
 */
resultRoutes.get('/:id/results', async (c) => {
  const id = c.req.param('id');
  const stub = coordinatorFor(c.env, id);
  const after = decodeCursor(c.req.query('cursor'));
  const owner = ownerScope(c);
  const filter = parseFilter(c);
  const format = streamFormat(c);
  if (format) {
    const first = found(await stub.results(after, STREAM_PAGE, owner, filter), id);
    const follow = c.req.query('follow') === 'true';
    const next = (seq: number) => stub.results(seq, STREAM_PAGE, owner, filter);
    return ndjsonResponse(first, next, { follow, format });
  }
  const limit = parseLimit(c.req.query('limit'));
  const page: ResultsPage = found(await stub.results(after, limit, owner, filter), id);
  const more = page.more || !page.terminal;
  const next = more ? JSON.stringify(encodeCursor(page.lastSeq)) : 'null';
  return c.body(`{"items":[${page.bodies.join(',')}],"nextCursor":${next}}`, 200, {
    'content-type': 'application/json; charset=utf-8',
  });
});

/** A query parameter that is `true` or `false`, if given. */
function booleanQuery(c: Context<AppEnv>, name: string): boolean | undefined {
  const v = c.req.query(name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') {
    throw new ApiError('invalid_request', `${name}: expected true or false`);
  }
  return v === 'true';
}

/** `?ok=true|false`, `?kind=<error kind>` and `?changed=true|false`; they combine. */
function parseFilter(c: Context<AppEnv>): ResultFilter {
  const filter: ResultFilter = {};
  const ok = booleanQuery(c, 'ok');
  if (ok !== undefined) filter.ok = ok;
  const changed = booleanQuery(c, 'changed');
  if (changed !== undefined) filter.changed = changed;
  const kind = c.req.query('kind');
  if (kind !== undefined) {
    if (!(ERROR_KINDS as readonly string[]).includes(kind)) {
      throw new ApiError('invalid_request', `kind: expected one of ${ERROR_KINDS.join(', ')}`);
    }
    filter.kind = kind;
  }
  return filter;
}

/**
 * The stream asked for, or null for a JSON page: `?format=csv|ndjson|json` wins, else
 * `Accept: text/csv` or `application/x-ndjson`.
 */
function streamFormat(c: Context<AppEnv>): StreamFormat | null {
  const asked = c.req.query('format');
  if (asked !== undefined) {
    if (asked === 'csv') return CSV;
    if (asked === 'ndjson') return NDJSON;
    if (asked === 'json') return null;
    throw new ApiError('invalid_request', 'format: expected json, ndjson or csv');
  }
  const accept = c.req.header('accept') ?? '';
  if (accept.includes('application/x-ndjson')) return NDJSON;
  return accept.includes('text/csv') ? CSV : null;
}

/** Cursors are opaque to clients: the last settlement sequence number seen, encoded. */
function encodeCursor(seq: number): string {
  return btoa(`s${seq}`).replaceAll('=', '');
}

function decodeCursor(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  return Number(readCursor(raw, /^s(\d{1,15})$/)[1]);
}
