/** The longest URL we accept; longer ones are almost always generated junk. */
export const MAX_URL_LENGTH = 8192;

/** A submitted URL, checked: `normalized` is the dedupe key, `host` the per-host key. */
type ParsedTarget =
  | { ok: true; url: string; normalized: string; host: string }
  | { ok: false; message: string };

// `new URL` is lenient ("http:example.com" parses), so insist on the spelled-out absolute form.
const ABSOLUTE_HTTP = /^https?:\/\//i;

/** Validates a submitted URL and derives its dedupe key and its per-host key. */
export function parseTarget(input: string): ParsedTarget {
  const url = input.trim();
  if (url === '') return { ok: false, message: 'empty URL' };
  if (url.length > MAX_URL_LENGTH) {
    return { ok: false, message: `URL longer than ${MAX_URL_LENGTH} characters` };
  }
  if (!ABSOLUTE_HTTP.test(url)) return { ok: false, message: 'not an http(s) URL' };

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, message: 'not an http(s) URL' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, message: 'not an http(s) URL' };
  }
  if (parsed.hostname === '') return { ok: false, message: 'not an http(s) URL' };
  // Credentials would end up in logs and results, and in a Host-keyed pool they are ambiguous.
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, message: 'credentials in URLs are not allowed' };
  }

  // The WHATWG serialisation already lowercases scheme and host and drops the default port;
  // the fragment never reaches the server, so two spellings differing only there are one page.
  parsed.hash = '';
  return { ok: true, url, normalized: parsed.href, host: parsed.host };
}
