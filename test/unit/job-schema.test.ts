import { describe, expect, it } from 'vitest';
import { jobLimits, parseJob } from '../../src/jobs/schema';

const deployed = { maxUrls: 10, allowPrivate: false };
const local = { maxUrls: 10, allowPrivate: true };
const job = (callbackUrl: string) => ({ urls: ['https://a.example/'], callbackUrl });

describe('parseJob: callbackUrl', () => {
  it('refuses private and local callbacks where private targets are not allowed', () => {
    for (const url of [
      'https://127.0.0.1/hook',
      'https://localhost:8443/hook',
      'https://10.0.0.7/hook',
      'https://[::1]/hook',
      'https://169.254.169.254/latest',
    ]) {
      expect(parseJob(job(url), deployed)).toEqual({
        ok: false,
        issues: [{ path: 'callbackUrl', message: 'a private or local address is not allowed' }],
      });
    }
  });

  it('asks for https where private targets are not allowed', () => {
    expect(parseJob(job('http://hooks.example/x'), deployed)).toEqual({
      ok: false,
      issues: [{ path: 'callbackUrl', message: 'must be an https URL' }],
    });
    const ok = parseJob(job('https://hooks.example/x'), deployed);
    expect(ok.ok && ok.spec.callbackUrl).toBe('https://hooks.example/x');
  });

  it('takes any http(s) callback under local development', () => {
    const ok = parseJob(job('http://127.0.0.1:9999/hook'), local);
    expect(ok.ok && ok.spec.callbackUrl).toBe('http://127.0.0.1:9999/hook');
  });
});

describe('parseJob: perHostDelayMs', () => {
  const delayOf = (perHostDelayMs?: unknown) => {
    const parsed = parseJob({ urls: ['https://a.example/'], perHostDelayMs }, deployed);
    return parsed.ok ? parsed.spec.perHostDelayMs : parsed.issues;
  };

  it('is 0 by default and takes whole ms from 0 to 60000', () => {
    expect(delayOf()).toBe(0);
    expect(delayOf(0)).toBe(0);
    expect(delayOf(60_000)).toBe(60_000);
  });

  it('refuses values out of range or not whole, naming the field', () => {
    for (const value of [-1, 60_001, 0.5, '10', null]) {
      expect(delayOf(value), String(value)).toEqual([
        { path: 'perHostDelayMs', message: expect.any(String) },
      ]);
    }
  });
});

describe('jobLimits', () => {
  it('reads MAX_URLS_PER_JOB and ALLOW_PRIVATE_TARGETS, defaulting to 100,000 and off', () => {
    expect(jobLimits({ MAX_URLS_PER_JOB: '500', ALLOW_PRIVATE_TARGETS: 'true' })).toEqual({
      maxUrls: 500,
      allowPrivate: true,
    });
    expect(jobLimits({ MAX_URLS_PER_JOB: '', ALLOW_PRIVATE_TARGETS: 'false' })).toEqual({
      maxUrls: 100_000,
      allowPrivate: false,
    });
  });
});

describe('parseJob: render and renderConcurrency', () => {
  const parse = (fields: Record<string, unknown>) =>
    parseJob({ urls: ['https://a.example/'], ...fields }, deployed);
  const renderOf = (render?: unknown) => {
    const parsed = parse({ render });
    return parsed.ok ? parsed.spec.render : parsed.issues;
  };
  const defaults = { waitUntil: 'load', waitForSelector: null, blockResources: true };

  it('is off by default, and for false or an object of mode false', () => {
    expect(renderOf()).toBeNull();
    expect(renderOf(false)).toBeNull();
    expect(renderOf({ mode: false, waitUntil: 'networkidle0' })).toBeNull();
  });

  it('normalises true to always and "auto" to auto, with the defaults', () => {
    expect(renderOf(true)).toEqual({ mode: 'always', ...defaults });
    expect(renderOf('auto')).toEqual({ mode: 'auto', ...defaults });
    expect(renderOf({ mode: true })).toEqual({ mode: 'always', ...defaults });
  });

  it('keeps the refinements of the object form', () => {
    expect(
      renderOf({
        mode: 'auto',
        waitUntil: 'networkidle0',
        waitForSelector: '#app h1',
        blockResources: false,
      }),
    ).toEqual({
      mode: 'auto',
      waitUntil: 'networkidle0',
      waitForSelector: '#app h1',
      blockResources: false,
    });
    expect(renderOf({ mode: true, waitUntil: 'domcontentloaded' })).toEqual({
      mode: 'always',
      ...defaults,
      waitUntil: 'domcontentloaded',
    });
  });

  it('refuses anything else, naming the field', () => {
    for (const [render, path] of [
      ['always', 'render'],
      [1, 'render'],
      [null, 'render'],
      [{}, 'render'],
      [{ mode: 'always' }, 'render'],
      [{ mode: true, waitUntil: 'idle' }, 'render'],
      [{ mode: true, waitForSelector: '' }, 'render'],
      [{ mode: true, waitForSelector: '   ' }, 'render'],
      [{ mode: true, waitForSelector: 'x'.repeat(501) }, 'render'],
      [{ mode: true, blockResources: 'yes' }, 'render'],
      [{ mode: true, extra: 1 }, 'render'],
    ] as const) {
      const issues = renderOf(render);
      expect(Array.isArray(issues), JSON.stringify(render)).toBe(true);
      expect((issues as Array<{ path: string }>)[0]?.path, JSON.stringify(render)).toMatch(
        new RegExp(`^${path}`),
      );
    }
    expect(renderOf({ mode: true, waitForSelector: 'x'.repeat(500) })).toMatchObject({
      waitForSelector: 'x'.repeat(500),
    });
  });

  it('renderConcurrency is 2 by default, 1..10, and taken without render too', () => {
    const tabs = (renderConcurrency?: unknown) => {
      const parsed = parse({ render: true, renderConcurrency });
      return parsed.ok ? parsed.spec.renderConcurrency : parsed.issues;
    };
    expect(tabs()).toBe(2);
    expect(tabs(1)).toBe(1);
    expect(tabs(10)).toBe(10);
    for (const value of [0, 11, 1.5, '2', null]) {
      expect(tabs(value), String(value)).toEqual([
        { path: 'renderConcurrency', message: expect.any(String) },
      ]);
    }
    const alone = parse({ renderConcurrency: 5 });
    expect(alone.ok && [alone.spec.render, alone.spec.renderConcurrency]).toEqual([null, 5]);
  });
});
