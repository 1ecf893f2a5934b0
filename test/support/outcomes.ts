// Page outcomes and Results as tests build them: every field at a plain value (an ok page, no
// extraction asked, nothing compared or rendered), the ones a test is about given in `over`.
import type { PageOutcome } from '../../src/fetch/fetch-page';
import type { Result } from '../../src/jobs/types';

type OkOutcome = Extract<PageOutcome, { ok: true }>;

/** An ok outcome of fetching `http://h/0`. */
export function okOutcome(over: Partial<OkOutcome> = {}): OkOutcome {
  return {
    ok: true,
    finalUrl: 'http://h/0',
    status: 200,
    contentType: 'text/html',
    title: null,
    links: 0,
    bytes: 0,
    data: null,
    linkUrls: null,
    meta: null,
    rendered: false,
    renderMs: null,
    etag: null,
    lastModified: null,
    contentHash: null,
    notModified: false,
    durationMs: 0,
    fetchedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** The Result of `url` after one ok attempt: the ok outcome's fields, and what a Result adds. */
export function resultOf(url: string, over: Partial<Result> = {}): Result {
  return {
    url,
    ...okOutcome({ finalUrl: url }),
    attempts: 1,
    changed: null,
    error: null,
    ...over,
  };
}
