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
