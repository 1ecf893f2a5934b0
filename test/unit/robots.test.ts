import { describe, expect, it } from 'vitest';
import {
  isAllowed,
  MAX_ROBOTS_CHARS,
  MAX_ROBOTS_RULES,
  parseRobots,
  type RobotsRules,
  rulesForStatus,
} from '../../src/lib/robots';

const rules = (allow: string[], disallow: string[]): RobotsRules => ({ allow, disallow });

describe('parseRobots: group selection', () => {
  // Adapted from RFC 9309 2.2.1 / 5.1.
  const text = [
    'User-Agent: *',
    'Disallow: *.gif$',
    'Disallow: /example/',
    'Allow: /publications/',
    '',
    'User-Agent: foobot',
    'Disallow:/',
    'Allow:/example/page.html',
    'Allow:/example/allowed.gif',
    '',
    'User-Agent: barbot',
    'User-Agent: bazbot',
    'Disallow: /example/page.html',
    '',
    'User-Agent: quxbot',
  ].join('\n');

  it('uses the * group when no group names us', () => {
    expect(parseRobots(text)).toEqual(rules(['/publications/'], ['*.gif$', '/example/']));
  });

  it('uses the group naming our product token, case-insensitively', () => {
    expect(parseRobots(text, 'FooBot')).toEqual(
      rules(['/example/page.html', '/example/allowed.gif'], ['/']),
    );
    expect(parseRobots(text, 'foobot/1.2 (+https://example.com)')).toEqual(
      parseRobots(text, 'foobot'),
    );
  });

  it('lets consecutive user-agent lines share one group', () => {
    expect(parseRobots(text, 'barbot')).toEqual(rules([], ['/example/page.html']));
    expect(parseRobots(text, 'bazbot')).toEqual(rules([], ['/example/page.html']));
  });

  it('gives a named group with no rules an empty rule set, not the * rules', () => {
    expect(parseRobots(text, 'quxbot')).toEqual(rules([], []));
  });

  it('matches the product token in the file, ignoring a version suffix', () => {
    const t = 'User-agent: Scrape-Fanout/2.0\nDisallow: /mine\nUser-agent: *\nDisallow: /';
    expect(parseRobots(t)).toEqual(rules([], ['/mine']));
  });

  it('does not match a token that merely starts with ours', () => {
    const t = 'User-agent: scrape-fanout-evil\nDisallow: /x\nUser-agent: *\nDisallow: /y';
    expect(parseRobots(t)).toEqual(rules([], ['/y']));
  });

  it('merges every group that names us', () => {
    const t = [
      'user-agent: scrape-fanout',
      'disallow: /a',
      'user-agent: other',
      'disallow: /b',
      'user-agent: scrape-fanout',
      'allow: /c',
      'disallow: /d',
    ].join('\n');
    expect(parseRobots(t)).toEqual(rules(['/c'], ['/a', '/d']));
  });

  it('merges every * group', () => {
    const t =
      'User-agent: *\nDisallow: /a\n\nUser-agent: x\nDisallow: /x\nUser-agent: *\nDisallow: /b';
    expect(parseRobots(t)).toEqual(rules([], ['/a', '/b']));
  });

  it('returns no rules when nothing applies', () => {
    expect(parseRobots('')).toEqual(rules([], []));
    expect(parseRobots('User-agent: other\nDisallow: /')).toEqual(rules([], []));
    expect(parseRobots('Disallow: /\nAllow: /x')).toEqual(rules([], []));
    expect(parseRobots('<html><body>not robots</body></html>')).toEqual(rules([], []));
  });
});

describe('parseRobots: syntax', () => {
  it('handles comments, CRLF, CR, blank lines, a BOM and odd spacing', () => {
    const t =
      '\uFEFF# hello\r\nUser-agent: * # everyone\r\n\r\n  Disallow :  /private # secret \r' +
      'Allow:/private/ok\r\n#Disallow: /commented\nSitemap: https://example.com/s.xml\nDISALLOW: /loud';
    expect(parseRobots(t)).toEqual(rules(['/private/ok'], ['/private', '/loud']));
  });

  it('treats an empty Disallow as allowing everything', () => {
    const r = parseRobots('User-agent: *\nDisallow:\n');
    expect(r).toEqual(rules([], []));
    expect(isAllowed(r, '/anything')).toBe(true);
  });

  it('ignores other records without breaking the group', () => {
    const t = 'User-agent: *\nCrawl-delay: 10\nSitemap: /s.xml\nDisallow: /x\nnonsense line\n';
    expect(parseRobots(t)).toEqual({ ...rules([], ['/x']), crawlDelayMs: 10_000 });
  });

  it('collapses repeated wildcards and percent-encodes raw non-ASCII in rules', () => {
    const r = parseRobots('User-agent: *\nDisallow: /a***b\nDisallow: /café');
    expect(r.disallow).toEqual(['/a*b', '/caf%C3%A9']);
    expect(isAllowed(r, new URL('https://x/café/menu').pathname)).toBe(false);
  });

  it('keeps at most MAX_ROBOTS_RULES of each kind', () => {
    const lines = ['User-agent: *'];
    for (let i = 0; i < MAX_ROBOTS_RULES + 50; i++) lines.push(`Disallow: /d${i}`, `Allow: /a${i}`);
    const r = parseRobots(lines.join('\n'));
    expect(r.disallow).toHaveLength(MAX_ROBOTS_RULES);
    expect(r.allow).toHaveLength(MAX_ROBOTS_RULES);
    expect(r.disallow[0]).toBe('/d0');
  });

  it('reads only the first 500 KiB and drops the line cut in half', () => {
    const head = 'User-agent: *\nDisallow: /early\n';
    const padding = `#${'x'.repeat(MAX_ROBOTS_CHARS - head.length - 20)}\n`;
    const cut = 'Allow: /public-only-section-of-the-site\nDisallow: /late\n';
    const r = parseRobots(head + padding + cut);
    // The cut-off Allow line must not become a broader "Allow: /public-o".
    expect(r).toEqual(rules([], ['/early']));
  });
});

describe('parseRobots: Crawl-delay', () => {
  const delayOf = (text: string, agent?: string) => parseRobots(text, agent).crawlDelayMs;

  it('reads the Crawl-delay of the group that applies to us, in ms, decimals allowed', () => {
    expect(delayOf('User-agent: *\nCrawl-delay: 0.4\nDisallow: /x')).toBe(400);
    expect(delayOf('User-agent: *\ncrawl-DELAY:   2   # seconds\n')).toBe(2_000);
    expect(delayOf('User-agent: *\nCrawl-delay: .25\n')).toBe(250);
    expect(parseRobots('User-agent: *\nCrawl-delay: 1\nDisallow: /x')).toEqual({
      allow: [],
      disallow: ['/x'],
      crawlDelayMs: 1_000,
    });
  });

  it('ignores the Crawl-delay of another agent’s group, and takes our own over *', () => {
    const text = [
      'User-agent: otherbot',
      'Crawl-delay: 9',
      '',
      'User-agent: *',
      'Disallow: /private/',
    ].join('\n');
    expect(delayOf(text)).toBeUndefined();
    expect(delayOf(text, 'OtherBot/2.0')).toBe(9_000);
    const both = 'User-agent: *\nCrawl-delay: 5\n\nUser-agent: foobot\nCrawl-delay: 1\n';
    expect(delayOf(both, 'foobot')).toBe(1_000);
    expect(delayOf(both)).toBe(5_000);
  });

  it('ends the agent lines like a rule does: the next user-agent starts a new group', () => {
    const text = 'User-agent: otherbot\nCrawl-delay: 7\nUser-agent: *\nDisallow: /x\n';
    expect(parseRobots(text)).toEqual({ allow: [], disallow: ['/x'] });
  });

  it('caps a Crawl-delay at 60 s and takes the largest of several', () => {
    expect(delayOf('User-agent: *\nCrawl-delay: 61\n')).toBe(60_000);
    expect(delayOf('User-agent: *\nCrawl-delay: 86400\n')).toBe(60_000);
    expect(delayOf('User-agent: *\nCrawl-delay: 1\nCrawl-delay: 3\n')).toBe(3_000);
    expect(delayOf('User-agent: *\nCrawl-delay: 3\n\nUser-agent: *\nCrawl-delay: 2\n')).toBe(3_000);
  });

  it('ignores values that are not a non-negative number of seconds, and one before any group', () => {
    for (const value of ['', 'abc', '-1', '1e3', '0x10', '1,5', '0', '0.0001']) {
      expect(delayOf(`User-agent: *\nCrawl-delay: ${value}\n`), value).toBeUndefined();
    }
    expect(delayOf('Crawl-delay: 5\nUser-agent: *\nDisallow: /x\n')).toBeUndefined();
  });
});

describe('isAllowed', () => {
  it('allows everything when there are no disallow rules', () => {
    expect(isAllowed(rules([], []), '/')).toBe(true);
    expect(isAllowed(rules(['/x'], []), '/y')).toBe(true);
  });

  it('disallows everything under Disallow: /', () => {
    const r = rules([], ['/']);
    expect(isAllowed(r, '/')).toBe(false);
    expect(isAllowed(r, '/a/b?c=d')).toBe(false);
    expect(isAllowed(r, '')).toBe(false);
  });

  it('always allows /robots.txt itself', () => {
    expect(isAllowed(rules([], ['/']), '/robots.txt')).toBe(true);
    expect(isAllowed(rules([], ['/robots.txt']), '/robots.txt?x=1')).toBe(true);
    expect(isAllowed(rules([], ['/']), '/robots.txt.bak')).toBe(false);
  });

  it('lets the longest matching rule win (RFC 9309 5.2)', () => {
    // The RFC's own example: allow /example/page/ beats disallow /example/.
    const r = rules(['/example/page/'], ['/example/page/disallowed.gif', '/example/']);
    expect(isAllowed(r, '/example/page/')).toBe(true);
    expect(isAllowed(r, '/example/page/index.html')).toBe(true);
    expect(isAllowed(r, '/example/page/disallowed.gif')).toBe(false);
    expect(isAllowed(r, '/example/other')).toBe(false);
    expect(isAllowed(r, '/elsewhere')).toBe(true);
  });

  it('lets allow win a tie in length', () => {
    expect(isAllowed(rules(['/page'], ['/page']), '/page')).toBe(true);
    expect(isAllowed(rules(['/p*e'], ['/pag']), '/page')).toBe(true);
  });

  it('matches rules as path prefixes, case-sensitively', () => {
    const r = rules([], ['/fish']);
    expect(isAllowed(r, '/fish')).toBe(false);
    expect(isAllowed(r, '/fish.html')).toBe(false);
    expect(isAllowed(r, '/fishheads/yummy.html')).toBe(false);
    expect(isAllowed(r, '/fish?id=1')).toBe(false);
    expect(isAllowed(r, '/Fish.asp')).toBe(true);
    expect(isAllowed(r, '/catfish')).toBe(true);
  });

  it('supports * wildcards anywhere in a rule', () => {
    const r = rules([], ['/*.php', '/fish*.html']);
    expect(isAllowed(r, '/index.php')).toBe(false);
    expect(isAllowed(r, '/folder/any.php.file.html')).toBe(false);
    expect(isAllowed(r, '/filename.php?x=1')).toBe(false);
    expect(isAllowed(r, '/fishy/salmon.html')).toBe(false);
    expect(isAllowed(r, '/windows.PHP')).toBe(true);
    expect(isAllowed(r, '/fish.htm')).toBe(true);
  });

  it('anchors a rule ending in $ at the end of the path', () => {
    const r = rules([], ['/*.php$', '/exact$']);
    expect(isAllowed(r, '/filename.php')).toBe(false);
    expect(isAllowed(r, '/folder/filename.php')).toBe(false);
    expect(isAllowed(r, '/filename.php?parameters')).toBe(true);
    expect(isAllowed(r, '/filename.php5')).toBe(true);
    expect(isAllowed(r, '/exact')).toBe(false);
    expect(isAllowed(r, '/exactly')).toBe(true);
  });

  it('applies the RFC example file end to end', () => {
    const r = parseRobots(
      'User-Agent: *\nDisallow: *.gif$\nDisallow: /example/\nAllow: /publications/',
    );
    expect(isAllowed(r, '/publications/report.pdf')).toBe(true);
    expect(isAllowed(r, '/example/page.html')).toBe(false);
    expect(isAllowed(r, '/images/cat.gif')).toBe(false);
    expect(isAllowed(r, '/images/cat.gif?size=2')).toBe(true);
    expect(isAllowed(r, '/')).toBe(true);
  });

  it('stays fast on a pathological wildcard rule', () => {
    const r = rules([], [`/${'*a'.repeat(200)}b`]);
    const start = Date.now();
    expect(isAllowed(r, `/${'a'.repeat(8000)}`)).toBe(true);
    // Generous bound: a backtracking regex would take far longer than this.
    expect(Date.now() - start).toBeLessThan(2000);
  });
});

describe('rulesForStatus', () => {
  it('asks for the body on 2xx', () => {
    expect(rulesForStatus(200)).toBe('fetch-body');
    expect(rulesForStatus(204)).toBe('fetch-body');
  });

  it('allows everything when robots.txt is unavailable (4xx)', () => {
    for (const status of [400, 401, 403, 404, 410]) {
      expect(rulesForStatus(status)).toEqual(rules([], []));
    }
  });

  it('treats an unfollowed redirect as unavailable', () => {
    expect(rulesForStatus(301)).toEqual(rules([], []));
  });

  it('disallows everything when robots.txt is unreachable (5xx, 429, network error)', () => {
    for (const status of [500, 502, 503, 504, 429, 0]) {
      const r = rulesForStatus(status);
      const why = status === 0 ? 'no answer' : `HTTP ${status}`;
      expect(r).toEqual({ ...rules([], ['/']), unreachable: why });
      expect(r !== 'fetch-body' && isAllowed(r, '/page')).toBe(false);
    }
  });

  it('returns a fresh object each time, so callers cannot corrupt a shared one', () => {
    const a = rulesForStatus(500);
    const b = rulesForStatus(500);
    expect(a).not.toBe(b);
  });
});
