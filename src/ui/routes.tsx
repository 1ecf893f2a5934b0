import { type Context, Hono } from 'hono';
import { accepts } from 'hono/accepts';
import { html } from 'hono/html';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { AppEnv } from '../app-env';
import { APP_SCRIPT, APP_STYLES, type Asset } from './assets';
import { DashboardPage } from './dashboard-page';
import { ASSET_HEADERS, PAGE_HEADERS } from './headers';
import { JobPage } from './job-page';

/**
 * The dashboard: public pages that hold no data (their script reads /v1 with the token the
 * user enters), and the script and stylesheet they load.
 */
export const uiRoutes = new Hono<AppEnv>();

/** `/` is the dashboard for a browser (Accept prefers text/html); anything else goes on. */
uiRoutes.get('/', async (c, next) => {
  c.header('Vary', 'Accept');
  if (!prefersHtml(c)) {
    await next();
    return;
  }
  return page(c, <DashboardPage />);
});

uiRoutes.get('/jobs/:id', (c) => page(c, <JobPage />));

for (const asset of [APP_SCRIPT, APP_STYLES]) {
  uiRoutes.get(asset.path, (c) => serveAsset(c, asset));
}

function prefersHtml(c: Context<AppEnv>): boolean {
  const type = accepts(c, {
    header: 'Accept',
    supports: ['application/json', 'text/html'],
    default: 'application/json',
  });
  return type === 'text/html';
}

function page(c: Context<AppEnv>, body: JSX.Element): Response | Promise<Response> {
  return c.html(html`<!doctype html>${body}`, 200, PAGE_HEADERS);
}

function serveAsset(c: Context<AppEnv>, asset: Asset): Response {
  return c.body(asset.body, 200, { 'content-type': asset.contentType, ...ASSET_HEADERS });
}
