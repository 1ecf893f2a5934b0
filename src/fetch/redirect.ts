/** The statuses whose `Location` a request of the service follows (by hand, hop by hop). */
export const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Where a response sends the request next: its `Location` resolved against `from`, or null
 * when it is not a redirect. Throws on a `Location` that is not a URL.
 */
export function redirectLocation(res: Response, from: URL): URL | null {
  const location = REDIRECT_STATUSES.has(res.status) ? res.headers.get('location') : null;
  return location === null ? null : new URL(location, from);
}
