// What every route of the test origin answers with: HTML pages and whole responses.
import type http from 'node:http';

export type Res = http.ServerResponse;

export const HTML = 'text/html; charset=utf-8';

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function intParam(
  url: URL,
  name: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) return fallback;
  return Math.min(Math.floor(n), max);
}

export function simplePage(title: string, body = '', links = 0): string {
  let anchors = '';
  for (let i = 0; i < links; i++) anchors += `<li><a href="/page?n=${i}">Link ${i}</a></li>\n`;
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body><h1>${escapeHtml(title)}</h1>${body}<ul>\n${anchors}</ul></body></html>\n`;
}

export function send(
  res: Res,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': buf.length, ...headers });
  res.end(buf);
}
