// Every request to a site says who sends it: `scrape-fanout/<version>` and, set here by
// USER_AGENT_CONTACT (vitest.config.ts), the operator's contact URL; robots.txt requests too.
import { describe, expect, it } from 'vitest';
import pkg from '../../package.json';
import { userAgent, VERSION } from '../../src/fetch/user-agent';
import { origin, originStats, submit, tag, waitForJob } from '../support/api';

const EXPECTED = `scrape-fanout/${pkg.version} (+https://ops.example/scrapers)`;

describe('the User-Agent', () => {
  it('is scrape-fanout/<package version>, with the contact URL when one is set', () => {
    expect(VERSION).toBe(pkg.version);
    expect(userAgent()).toBe(`scrape-fanout/${pkg.version}`);
    expect(userAgent('  ')).toBe(`scrape-fanout/${pkg.version}`);
    expect(userAgent('mailto:ops@example.com')).toBe(
      `scrape-fanout/${pkg.version} (+mailto:ops@example.com)`,
    );
  });

  it('is sent with every page request and with robots.txt', async () => {
    const t = tag('ua');
    // 127.0.0.6 is a host no other test asks for robots.txt, so its entry is this test's.
    const urls = [1, 2, 3].map((n) => origin(`/page?tag=${t}&n=${n}`, '127.0.0.6'));
    const job = await submit({ urls, respectRobots: true });
    expect((await waitForJob(job.id)).counts.succeeded).toBe(3);
    expect((await originStats(t)).agents).toEqual({ [EXPECTED]: 3 });
    const robots = (await (await fetch(origin('/__robots/agents'))).json()) as Record<
      string,
      string
    >;
    expect(Object.entries(robots).find(([host]) => host.startsWith('127.0.0.6:'))?.[1]).toBe(
      EXPECTED,
    );
  });
});
