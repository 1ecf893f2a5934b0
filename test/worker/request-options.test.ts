// A job's own request headers and User-Agent: they reach the site on every page request,
// credentials never follow a redirect to another origin, and the service's headers are refused.
import { describe, expect, it } from 'vitest';
import { allResults, api, origin, originStats, submit, tag, waitForJob } from '../support/api';

const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { message: string } }).error.message;

describe('headers and userAgent', () => {
  it('arrive with every page request; Accept may be replaced', async () => {
    const t = tag('req-opts');
    const echo = origin(`/echo-headers?tag=${t}&h=x-probe,accept,authorization`);
    const job = await submit({
      urls: [echo, origin(`/page?tag=${t}`)],
      headers: { 'X-Probe': 'yes', Accept: 'text/html', Authorization: 'Bearer s3cret' },
      userAgent: 'MyBot/2.0 (+mailto:ops@example.com)',
    });
    await waitForJob(job.id);
    const results = await allResults(job.id);
    expect(results.find((r) => r.url === echo)?.title).toBe(
      'accept=text/html;authorization=Bearer s3cret;x-probe=yes',
    );
    expect((await originStats(t)).agents).toEqual({ 'MyBot/2.0 (+mailto:ops@example.com)': 2 });
  });

  it('credentials are not sent to another origin a redirect leads to; other headers are', async () => {
    const t = tag('req-redirect');
    const target = origin(`/echo-headers?tag=${t}&h=authorization,cookie,x-probe`, '127.0.0.2');
    const start = origin(`/redirect?tag=${t}&to=${encodeURIComponent(target)}`);
    const job = await submit({
      urls: [start],
      headers: { Authorization: 'Bearer s3cret', Cookie: 'a=b', 'X-Probe': 'kept' },
    });
    await waitForJob(job.id);
    const [result] = await allResults(job.id);
    expect(result?.finalUrl).toBe(target);
    expect(result?.title).toBe('authorization=;cookie=;x-probe=kept');
  });

  it.each([
    [{ Host: 'a.example' }, 'headers.host: not allowed here (set by the service)'],
    [{ 'Content-Length': '1' }, 'headers.content-length: not allowed here (set by the service)'],
    [{ Connection: 'close' }, 'headers.connection: not allowed here (set by the service)'],
    [{ 'User-Agent': 'x' }, 'headers.user-agent: not allowed here (use the userAgent field)'],
    [{ 'x-a': 'b', 'X-A': 'c' }, 'headers.x-a: given twice'],
    [{ 'bad name': 'x' }, 'headers.bad name: not an HTTP header name'],
    [{ 'x-a': 'line\r\nInjected: 1' }, 'headers.x-a: must not hold CR, LF or NUL'],
    [{ 'x-a': 'v'.repeat(1001) }, /^headers\.x-a: Too big/],
    [
      Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v'])),
      'headers: at most 20 headers',
    ],
  ])('refuses headers %j with a 400 naming headers', async (headers, message) => {
    const res = await api('/v1/jobs', {
      method: 'POST',
      body: JSON.stringify({ urls: [origin('/page')], headers }),
    });
    expect(res.status).toBe(400);
    const text = await errorOf(res);
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  });

  it('refuses a userAgent over 300 characters or with a line break', async () => {
    for (const userAgent of ['u'.repeat(301), 'a\nb']) {
      const res = await api('/v1/jobs', {
        method: 'POST',
        body: JSON.stringify({ urls: [origin('/page')], userAgent }),
      });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatch(/^userAgent:/);
    }
  });
});
