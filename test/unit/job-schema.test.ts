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
