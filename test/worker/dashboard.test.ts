// The dashboard's pages as the worker serves them: HTML only to clients that prefer it (the
// JSON of / otherwise, unchanged), public shells that hold no data, their CSP and headers, and
// the script and stylesheet they load. What the script does in a browser is
// test/e2e/dashboard.e2e.test.mjs.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { jobLimits, LIMITS, parseJob } from '../../src/jobs/schema';
import { APP_SCRIPT, APP_STYLES } from '../../src/ui/assets';
import { FORM_DEFAULTS } from '../../src/ui/dashboard-page';
import { origin, submit, TOKEN, tag } from '../support/api';

/** What Chromium sends when it navigates to a page. */
const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const ROOT_JSON = { name: 'scrape-fanout', api: '/v1', docs: '/docs' };

/** A public GET: no Authorization header at all. */
function get(path: string, accept?: string): Promise<Response> {
  const headers = accept === undefined ? undefined : { accept };
  return exports.default.fetch(new Request(`http://api.test${path}`, { headers }));
}

interface Markup {
  /** Every element: its tag and attributes. */
  elements: Array<{ tag: string; attrs: Map<string, string> }>;
  text: string;
}

/** Reads a page with HTMLRewriter: its elements and attributes, and all of its text. */
async function parse(html: string): Promise<Markup> {
  const out: Markup = { elements: [], text: '' };
  await new HTMLRewriter()
    .on('*', {
      element(e) {
        const attrs = [...e.attributes].map(([k = '', v = '']) => [k, v] as const);
        out.elements.push({ tag: e.tagName, attrs: new Map(attrs) });
      },
      text(t) {
        out.text += t.text;
      },
    })
    .transform(new Response(html))
    .text();
  return out;
}

async function htmlPage(path: string): Promise<{ res: Response; body: string; markup: Markup }> {
  const res = await get(path, BROWSER_ACCEPT);
  const body = await res.text();
  return { res, body, markup: await parse(body) };
}

function expectPageHeaders(res: Response): void {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8$/i);
  const csp = res.headers.get('content-security-policy') ?? '';
  const directives = new Map(
    csp.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values.join(' ')] as const;
    }),
  );
  expect(directives.get('default-src')).toBe("'none'");
  expect(directives.get('script-src')).toBe("'self'");
  expect(directives.get('connect-src')).toBe("'self'");
  expect(directives.get('frame-ancestors')).toBe("'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
}

/** Inline script and inline style are what the CSP forbids; the markup must need neither. */
function expectNoInlineCode(markup: Markup): void {
  const scripts = markup.elements.filter((e) => e.tag === 'script');
  expect(scripts.map((s) => s.attrs.get('src'))).toEqual([APP_SCRIPT.href]);
  for (const { tag, attrs } of markup.elements) {
    const inline = [...attrs.keys()].filter((a) => a === 'style' || a.startsWith('on'));
    expect(inline, `<${tag}> has ${inline.join(', ')}`).toEqual([]);
  }
  expect(markup.elements.some((e) => e.tag === 'style')).toBe(false);
}

/** Every input, textarea and select has a <label for> naming it. */
function unlabelled(markup: Markup): string[] {
  const labelled = new Set(
    markup.elements.filter((e) => e.tag === 'label').map((e) => e.attrs.get('for')),
  );
  return markup.elements
    .filter((e) => ['input', 'textarea', 'select'].includes(e.tag))
    .map((e) => e.attrs.get('id') ?? '(no id)')
    .filter((id) => !labelled.has(id));
}

function attr(markup: Markup, id: string, name: string): string | undefined {
  return markup.elements.find((e) => e.attrs.get('id') === id)?.attrs.get(name);
}

describe('GET /', () => {
  it.each([
    ['none', undefined],
    ['*/*', '*/*'],
    ['application/json', 'application/json'],
    ['JSON before HTML at the same q', 'application/json, text/html'],
    ['HTML at a lower q', 'text/html;q=0.5, application/json'],
  ])('answers the JSON description to Accept: %s', async (_n, accept) => {
    const res = await get('/', accept);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('vary')).toMatch(/accept/i);
    expect(await res.text()).toBe(JSON.stringify(ROOT_JSON));
  });

  it.each([
    ['a browser', BROWSER_ACCEPT],
    ['text/html', 'text/html'],
    ['text/*', 'text/*'],
  ])('answers the dashboard to %s, publicly, with its CSP', async (_n, accept) => {
    const res = await get('/', accept);
    expectPageHeaders(res);
    expect(res.headers.get('vary')).toMatch(/accept/i);
    expect(await res.text()).toMatch(/^<!doctype html>/i);
  });

  it('has the job form with a label for every input, and the token form', async () => {
    const { markup } = await htmlPage('/');
    const ids = markup.elements.map((e) => e.attrs.get('id'));
    for (const id of ['job-form', 'f-urls', 'f-concurrency', 'f-timeout', 'f-attempts']) {
      expect(ids).toContain(id);
    }
    expect(ids).toContain('token-input');
    expect(unlabelled(markup)).toEqual([]);
    expect(markup.elements.find((e) => e.attrs.get('id') === 'job-submit')?.tag).toBe('button');
    // The token field has no name: a form sent without the script carries no token.
    expect(attr(markup, 'token-input', 'name')).toBeUndefined();
    expect(attr(markup, 'token-input', 'type')).toBe('password');
    expectNoInlineCode(markup);
  });

  it("offers the API's own defaults and limits", async () => {
    const { markup } = await htmlPage('/');
    const parsed = parseJob({ urls: ['https://example.com/'] }, jobLimits({} as Env));
    if (!parsed.ok) throw new Error('the minimal job should be valid');
    expect(FORM_DEFAULTS).toEqual({
      concurrency: parsed.spec.concurrency,
      timeoutMs: parsed.spec.timeoutMs,
      maxAttempts: parsed.spec.retry.maxAttempts,
    });
    expect(attr(markup, 'f-concurrency', 'value')).toBe(String(FORM_DEFAULTS.concurrency));
    expect(attr(markup, 'f-concurrency', 'max')).toBe(String(LIMITS.maxConcurrency));
    expect(attr(markup, 'f-timeout', 'max')).toBe(String(LIMITS.maxTimeoutMs));
    expect(attr(markup, 'f-attempts', 'max')).toBe(String(LIMITS.maxAttempts));
  });

  it('holds no job data: a job that exists is not in the markup, nor the token', async () => {
    const title = `secret-title-${tag('ui')}`;
    const { id } = await submit({ urls: [origin(`/page?title=${title}`)] });
    const { body } = await htmlPage('/');
    expect(body).not.toContain(id);
    expect(body).not.toContain(title);
    expect(body).not.toContain(TOKEN);
    // The same shell whoever asks: nothing in it depends on the caller or the jobs.
    const res = await exports.default.fetch(
      new Request('http://api.test/', {
        headers: { accept: BROWSER_ACCEPT, authorization: `Bearer ${TOKEN}` },
      }),
    );
    expect(await res.text()).toBe(body);
  });
});

describe('GET /jobs/:id', () => {
  it('is the same shell for a job that exists and for any other id, naming neither', async () => {
    const { id } = await submit({ urls: [origin(`/page?title=Shell&tag=${tag('ui')}`)] });
    const real = await htmlPage(`/jobs/${id}`);
    expectPageHeaders(real.res);
    expect(real.body).not.toContain(id);
    expectNoInlineCode(real.markup);
    expect(unlabelled(real.markup)).toEqual([]);
    for (const other of ['j000000000000000000000', 'nope', '%3Cscript%3E']) {
      const page = await htmlPage(`/jobs/${other}`);
      expectPageHeaders(page.res);
      expect(page.body).toBe(real.body);
    }
    const ids = real.markup.elements.map((e) => e.attrs.get('id'));
    for (const id of ['job-progress', 'cancel-button', 'deadline-form', 'histogram']) {
      expect(ids).toContain(id);
    }
    const buttons = real.markup.elements.filter((e) => e.attrs.get('id')?.startsWith('cancel-'));
    expect(buttons.map((b) => b.tag)).toEqual(['button', 'p', 'button', 'button']);
  });

  it('leaves /v1 behind the token', async () => {
    const res = await get('/v1/jobs', BROWSER_ACCEPT);
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });
});

describe('the script and stylesheet', () => {
  it.each([
    ['script', APP_SCRIPT, /^text\/javascript/],
    ['stylesheet', APP_STYLES, /^text\/css/],
  ])(
    'the %s is served at the versioned URL the pages name, cached for a year',
    async (_n, asset, type) => {
      const { markup } = await htmlPage('/');
      const hrefs = markup.elements.map((e) => e.attrs.get('src') ?? e.attrs.get('href'));
      expect(hrefs).toContain(asset.href);
      expect(asset.href).toMatch(/\?v=[0-9a-z]+$/);
      const res = await get(asset.href);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      expect(res.headers.get('cache-control')).toMatch(/max-age=31536000/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(asset.body);
    },
  );

  it('never writes markup: no innerHTML, document.write or eval in the script', () => {
    expect(APP_SCRIPT.body).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setHTML/,
    );
    expect(APP_SCRIPT.body).toContain('sessionStorage');
    expect(APP_SCRIPT.body).not.toContain('localStorage');
  });
});
