import { APP_JS } from './client/bundle';
import { APP_CSS } from './styles';

/** A static file of the dashboard, served from memory. */
export interface Asset {
  path: string;
  contentType: string;
  body: string;
  /** Where pages load it from: the path with a version of its content. */
  href: string;
}

/**
 * 32-bit FNV-1a of a text, in base 36. Asset URLs carry it, so an asset can be cached for a
 * year: a deployment that changes it changes its URL.
 */
export function contentVersion(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

function asset(path: string, contentType: string, body: string): Asset {
  return { path, contentType, body, href: `${path}?v=${contentVersion(body)}` };
}

export const APP_SCRIPT = asset('/ui/app.js', 'text/javascript; charset=utf-8', APP_JS);
export const APP_STYLES = asset('/ui/app.css', 'text/css; charset=utf-8', APP_CSS);
