// `/versioned/NAME` pages and `/__version`: content with a version a test changes, served with
// ETag and Last-Modified and answered 304 when a conditional request's validators match.
import type http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { Call } from './counters.ts';
import { versionedBody } from './fixtures.ts';
import { HTML, intParam, send, simplePage } from './respond.ts';

/** The names `/versioned/NAME` serves: one path segment of letters, digits, `.`, `_`, `-`. */
const VERSIONED_NAME = /^[\w.-]+$/;

/**
 * Sets the version of the tag's `/versioned/NAME` page: `?name=NAME&v=N` to N (an integer >= 1),
 * without `v` one up. Answers `{"name":..., "version": N}`.
 */
export function versionRoute({ res, url, tag, counters }: Call): void {
  const name = url.searchParams.get('name') ?? '';
  if (!VERSIONED_NAME.test(name)) {
    send(res, 400, 'application/json', '{"error":"name"}');
    return;
  }
  const versions = counters.statsFor(tag).versions;
  const version = intParam(url, 'v', (versions.get(name) ?? 1) + 1);
  versions.set(name, Math.max(1, version));
  send(res, 200, 'application/json', JSON.stringify({ name, version: versions.get(name) }));
}

/** Whether an If-None-Match value matches `etag` (weak comparison, as for GET; `*` matches). */
function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

/**
 * Whether a request's validators say the client has the current version: If-None-Match when
 * sent (If-Modified-Since is then ignored, as RFC 9110 says), else If-Modified-Since.
 */
function notModifiedSince(
  req: http.IncomingMessage,
  etag: string | null,
  lastModified: Date | null,
): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return etag !== null && etagMatches(inm, etag);
  const ims = Date.parse(req.headers['if-modified-since'] ?? '');
  return lastModified !== null && !Number.isNaN(ims) && lastModified.getTime() <= ims;
}

/**
 * `/versioned/NAME`: a page whose content is that of its version (`/__version` changes it),
 * sent with a strong ETag `"NAME-vN"` and a Last-Modified of day N of January 2026, and 304
 * when the request's validators match. `?validators=etag|lm|none` sends only one of them or
 * neither (then always 200), `gzip=1` the body gzip-encoded, `size=N` pads it to N bytes,
 * `type=text` makes it text/plain. Counted per path in `/__stats` (`conditional`).
 */
export function versionedRoute({ req, res, url, path, tag, counters }: Call): void {
  const name = path.slice('/versioned/'.length);
  if (!VERSIONED_NAME.test(name)) {
    send(res, 404, HTML, simplePage('No such versioned page'));
    return;
  }
  const s = counters.statsFor(tag);
  const version = s.versions.get(name) ?? 1;
  const validators = url.searchParams.get('validators') ?? 'both';
  const etag = validators === 'both' || validators === 'etag' ? `"${name}-v${version}"` : null;
  const modified = validators === 'both' || validators === 'lm';
  const lastModified = modified ? new Date(Date.UTC(2026, 0, version)) : null;
  let c = s.conditional.get(path);
  if (!c) {
    c = { ifNoneMatch: 0, ifModifiedSince: 0, notModified: 0, ok: 0, bodyBytes: 0 };
    s.conditional.set(path, c);
  }
  if (req.headers['if-none-match'] !== undefined) c.ifNoneMatch++;
  if (req.headers['if-modified-since'] !== undefined) c.ifModifiedSince++;
  const headers: http.OutgoingHttpHeaders = {};
  if (etag !== null) headers.ETag = etag;
  if (lastModified !== null) headers['Last-Modified'] = lastModified.toUTCString();
  if (notModifiedSince(req, etag, lastModified)) {
    c.notModified++;
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const text = url.searchParams.get('type') === 'text';
  const plain = Buffer.from(versionedBody(name, version, intParam(url, 'size', 0, 1 << 26), text));
  const gzip = url.searchParams.get('gzip') === '1';
  const body = gzip ? gzipSync(plain) : plain;
  if (gzip) headers['Content-Encoding'] = 'gzip';
  c.ok++;
  c.bodyBytes += body.length;
  send(res, 200, text ? 'text/plain; charset=utf-8' : HTML, body, headers);
}
