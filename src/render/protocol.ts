import type { ErrorKind } from '../jobs/types';

/** When a navigation counts as loaded (puppeteer's `waitUntil`). */
export type WaitUntil = 'load' | 'domcontentloaded' | 'networkidle0';

/** A job's rendering, validated: `render: true` is `always`, `"auto"` is `auto`. */
export interface RenderSpec {
  /** `always`: every page is rendered; `auto`: only pages a static fetch finds script-built. */
  mode: 'always' | 'auto';
  waitUntil: WaitUntil;
  /** A CSS selector the rendered page must show before its HTML is taken; null: none. */
  waitForSelector: string | null;
  /** Images, media and fonts are not loaded. */
  blockResources: boolean;
}

/** One page for a renderer (RPC from a shard to the job's Renderer). */
export interface RenderRequest {
  jobId: string;
  url: string;
  /** The whole render: navigation, waiting, taking the HTML. */
  timeoutMs: number;
  /** The rendered HTML larger than this (UTF-8 bytes) is a too_large failure. */
  maxBytes: number;
  render: RenderSpec;
  /** Tabs the job may have open at once (its renderConcurrency). */
  tabs: number;
  /** Loopback and private targets allowed (ALLOW_PRIVATE_TARGETS): the SSRF guard is off. */
  allowPrivate: boolean;
  userAgent: string;
  /** The job's own request headers, sent with the page's navigation. */
  headers: Record<string, string>;
}

/** What rendering one page gave: its HTML, or why there is none. */
export type RenderResult =
  | {
      ok: true;
      /** The main frame's URL once loaded (after redirects). */
      finalUrl: string;
      /** The navigation response's status and headers. */
      status: number;
      contentType: string | null;
      etag: string | null;
      lastModified: string | null;
      /** `page.content()`: the DOM serialised after scripts ran. */
      html: string;
      renderMs: number;
    }
  | {
      ok: false;
      kind: ErrorKind;
      message: string;
      status: number | null;
      finalUrl: string | null;
      renderMs: number;
    };
