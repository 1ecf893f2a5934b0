import { Hono } from 'hono';
import viewerPkg from 'swagger-ui-dist/package.json';
import viewerCss from 'swagger-ui-dist/swagger-ui.css';
import viewerJs from 'swagger-ui-dist/swagger-ui-bundle.js';
import type { AppEnv } from '../app-env';
import { jobLimits } from '../jobs/schema';
import { openApiDocument } from '../openapi/document';

/**
 * The OpenAPI document and a Swagger UI that renders it, both public: they describe the API and
 * hold no data. The viewer's files are served from here, never from a CDN.
 */
export const docRoutes = new Hono<AppEnv>();

/** The viewer's files change only with its version, which is in their path. */
const ASSETS = `/docs/swagger-ui-${viewerPkg.version}`;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The document and the page change with a deployment. */
const SHORT = 'public, max-age=300';

/** The stylesheet without its source-map comment: the map is not served. */
const css = (() => {
  const at = viewerCss.lastIndexOf('/*# sourceMappingURL=');
  return at < 0 ? viewerCss : viewerCss.slice(0, at);
})();

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>scrape-fanout API</title>
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${ASSETS}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/** Swagger UI sets inline styles; everything else comes from this origin. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The document's text, by MAX_URLS_PER_JOB (which it states): built once per isolate. */
const texts = new Map<number, string>();

docRoutes.get('/openapi.json', (c) => {
  const { maxUrls } = jobLimits(c.env);
  let text = texts.get(maxUrls);
  if (text === undefined) {
    text = JSON.stringify(openApiDocument(maxUrls));
    texts.set(maxUrls, text);
  }
  return c.body(text, 200, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': SHORT,
  });
});

docRoutes.get('/docs', (c) =>
  c.html(PAGE, 200, {
    'cache-control': SHORT,
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
  }),
);

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

docRoutes.get('/docs/init.js', () => asset(INIT, JS, SHORT));
docRoutes.get(`${ASSETS}/swagger-ui-bundle.js`, () => asset(viewerJs, JS, IMMUTABLE));
docRoutes.get(`${ASSETS}/swagger-ui.css`, () => asset(css, CSS, IMMUTABLE));

function asset(body: string, type: string, cache: string): Response {
  return new Response(body, {
    headers: { 'content-type': type, 'cache-control': cache, 'x-content-type-options': 'nosniff' },
  });
}
