import { describe, expect, it } from 'vitest';
import { MAX_URL_LENGTH, parseTarget } from '../../src/lib/normalize-url';

describe('parseTarget', () => {
  it('accepts http and https, keeping the trimmed input as url', () => {
    expect(parseTarget('  https://Example.COM/a?b=1  ')).toEqual({
      ok: true,
      url: 'https://Example.COM/a?b=1',
      normalized: 'https://example.com/a?b=1',
      host: 'example.com',
    });
    const plain = parseTarget('http://example.com');
    expect(plain.ok && plain.normalized).toBe('http://example.com/');
  });

  it('lowercases the scheme and drops default ports and the fragment', () => {
    const a = parseTarget('HTTP://example.com:80/Path?Q=A#frag');
    expect(a).toMatchObject({
      ok: true,
      normalized: 'http://example.com/Path?Q=A',
      host: 'example.com',
    });
    const b = parseTarget('https://example.com:443/#');
    expect(b).toMatchObject({ ok: true, normalized: 'https://example.com/', host: 'example.com' });
  });

  it('keeps a non-default port in both the normalized URL and the host key', () => {
    expect(parseTarget('https://example.com:8443/x')).toMatchObject({
      normalized: 'https://example.com:8443/x',
      host: 'example.com:8443',
    });
    expect(parseTarget('http://example.com:443/')).toMatchObject({ host: 'example.com:443' });
  });

  it('keeps path and query as written, so distinct queries stay distinct', () => {
    const a = parseTarget('https://example.com/a?x=1&y=2');
    const b = parseTarget('https://example.com/a?y=2&x=1');
    expect(a.ok && b.ok && a.normalized !== b.normalized).toBe(true);
  });

  it('canonicalises numeric IPv4 hosts and brackets IPv6 hosts', () => {
    expect(parseTarget('http://2130706433/')).toMatchObject({ host: '127.0.0.1' });
    expect(parseTarget('http://[::1]:8080/')).toMatchObject({ host: '[::1]:8080' });
  });

  it.each([
    ['', 'empty URL'],
    ['   ', 'empty URL'],
    ['ftp://example.com/', 'not an http(s) URL'],
    ['javascript:alert(1)', 'not an http(s) URL'],
    ['/relative/path', 'not an http(s) URL'],
    ['example.com', 'not an http(s) URL'],
    ['http:example.com', 'not an http(s) URL'],
    ['http://', 'not an http(s) URL'],
    ['http://exa mple.com/', 'not an http(s) URL'],
    ['https://user:pass@example.com/', 'credentials in URLs are not allowed'],
    ['https://user@example.com/', 'credentials in URLs are not allowed'],
  ])('rejects %j', (input, message) => {
    expect(parseTarget(input)).toEqual({ ok: false, message });
  });

  it('rejects URLs longer than the limit but accepts one at the limit', () => {
    const prefix = 'https://example.com/';
    const atLimit = prefix + 'a'.repeat(MAX_URL_LENGTH - prefix.length);
    expect(parseTarget(atLimit).ok).toBe(true);
    const over = parseTarget(`${atLimit}a`);
    expect(over.ok).toBe(false);
    expect(!over.ok && over.message).toMatch(/longer than 8192/);
  });
});
