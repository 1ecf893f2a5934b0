// robots.txt parsing and matching at their edges: product tokens, statuses, the size bound,
// line syntax and the glob matcher.
import { describe, expect, it } from 'vitest';
import {
  isAllowed,
  MAX_ROBOTS_CHARS,
  parseRobots,
  type RobotsRules,
  rulesForStatus,
} from '../../src/lib/robots';

const disallowing = (...disallow: string[]): RobotsRules => ({ allow: [], disallow });

describe('parseRobots: product tokens', () => {
  const text = 'User-agent: 123\nDisallow: /digits\nUser-agent: *\nDisallow: /star';

  it('gives a user agent without a token the * group, not the token-less one', () => {
    expect(parseRobots(text, '9bot/1.0')).toEqual(disallowing('/star'));
    expect(parseRobots(text)).toEqual(disallowing('/star'));
  });

  it('reads the token from the start of the name only', () => {
    const t = 'User-agent: 9scrape-fanout\nDisallow: /x\nUser-agent: *\nDisallow: /y';
    expect(parseRobots(t)).toEqual(disallowing('/y'));
  });

  it('trims the user agent it is given', () => {
    const t = 'User-agent: foobot\nDisallow: /foo\nUser-agent: *\nDisallow: /y';
    expect(parseRobots(t, '  FooBot/2')).toEqual(disallowing('/foo'));
  });
});

describe('parseRobots: text', () => {
  it('drops a leading byte-order mark', () => {
    expect(parseRobots('\uFEFFUser-agent: *\nDisallow: /x')).toEqual(disallowing('/x'));
  });

  it(`keeps a file of exactly ${MAX_ROBOTS_CHARS} characters whole`, () => {
    const tail = 'User-agent: *\nDisallow: /last';
    const text = `${'#'.repeat(MAX_ROBOTS_CHARS - tail.length - 1)}\n${tail}`;
    expect(text.length).toBe(MAX_ROBOTS_CHARS);
    expect(parseRobots(text)).toEqual(disallowing('/last'));
    expect(parseRobots(`${text}x`)).toEqual({ allow: [], disallow: [] });
  });

  it('ignores lines without a colon', () => {
    expect(parseRobots('User-agent: *\nDisallowx\nAllow /y\nDisallow: /z')).toEqual(
      disallowing('/z'),
    );
  });

  it('keeps a run of non-ASCII holding a lone surrogate as written', () => {
    expect(parseRobots('User-agent: *\nDisallow: /a\ud800\u00e9')).toEqual(
      disallowing('/a\ud800\u00e9'),
    );
  });
});

describe('rulesForStatus', () => {
  it('reads bodies of 2xx only; 3xx to 4xx (but 429) mean no rules', () => {
    expect(rulesForStatus(199)).toEqual({ ...disallowing('/'), unreachable: 'HTTP 199' });
    expect(rulesForStatus(200)).toBe('fetch-body');
    expect(rulesForStatus(299)).toBe('fetch-body');
    expect(rulesForStatus(300)).toEqual({ allow: [], disallow: [] });
    expect(rulesForStatus(499)).toEqual({ allow: [], disallow: [] });
    expect(rulesForStatus(500)).toEqual({ ...disallowing('/'), unreachable: 'HTTP 500' });
  });
});

describe('isAllowed: the glob matcher', () => {
  const cases: [string, string, boolean][] = [
    // [pattern, path, matches]
    ['/b', '/a/b', false],
    ['/a/b', '/a/b/c', true],
    ['/a$', '/a', true],
    ['/a$', '/ab', false],
    ['/a*', '/a', true],
    ['/a**', '/a', true],
    ['/a*$', '/abc', true],
    ['/*.php$', '/x.php', true],
    ['/*.php$', '/.php', true],
    ['/*.php$', '/x.php?q', false],
    ['/*.php$', '/x.phpx', false],
    ['/a*b', '/axxb', true],
    ['/a*b', '/ab', true],
    ['/a*b', '/axx', false],
    ['/a*b*c', '/a1b2c', true],
    ['/a*b*c', '/acb', false],
    ['/a*b$', '/abab', true],
    ['/a*b$', '/abba', false],
    ['*', '/anything', true],
    ['*/x', '/a/x', true],
    ['$', '/', false],
  ];
  for (const [pattern, path, matches] of cases) {
    it(`${pattern} ${matches ? 'matches' : 'does not match'} ${path}`, () => {
      expect(isAllowed(disallowing(pattern), path)).toBe(!matches);
    });
  }
});
