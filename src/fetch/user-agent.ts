/** The service's version, as its User-Agent shows it (test/unit/user-agent.test.ts holds it to package.json). */
export const VERSION = '0.1.0';

/**
 * The User-Agent of every request to a site (pages and robots.txt): `scrape-fanout/<version>`,
 * with the operator's contact URL when USER_AGENT_CONTACT is set, as polite crawlers identify
 * themselves, so a site owner can tell who to write to.
 */
export function userAgent(contact?: string): string {
  const url = contact?.trim();
  return url ? `scrape-fanout/${VERSION} (+${url})` : `scrape-fanout/${VERSION}`;
}
