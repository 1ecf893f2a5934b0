// The parts of a normalised URL the coordinator keys hosts and robots.txt on.
import { describe, expect, it } from 'vitest';
import { hostOf, originOf, pathOf } from '../../src/coordinator/url-text';

describe('url-text', () => {
  it('splits a URL with a path', () => {
    const url = 'https://example.com:8443/a/b?q=1';
    expect(hostOf(url)).toBe('example.com:8443');
    expect(originOf(url)).toBe('https://example.com:8443');
    expect(pathOf(url)).toBe('/a/b?q=1');
  });

  it('splits a URL with no path', () => {
    const url = 'http://example.com';
    expect(hostOf(url)).toBe('example.com');
    expect(originOf(url)).toBe('http://example.com');
    expect(pathOf(url)).toBe('/');
  });

  it('takes the first slash after the scheme, not one in the scheme separator', () => {
    const url = 'http://h/';
    expect(hostOf(url)).toBe('h');
    expect(originOf(url)).toBe('http://h');
    expect(pathOf(url)).toBe('/');
  });
});
