/**
 * The Content-Security-Policy of the dashboard's pages: they run only the dashboard's own
 * script, load only its stylesheet and call only this origin's API, so a hostile string that
 * did reach the DOM as markup could neither run nor send anything anywhere.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every dashboard page. The pages hold no data, so they may be revalidated. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Headers of the script and stylesheet: versioned URLs, so cached for a year. */
export const ASSET_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'public, max-age=31536000, immutable',
};
