import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from 'node:util';
import {
  intOption,
  JOB_OPTIONS,
  jobBody,
  parseSelectors,
  UsageError,
} from '../../bin/lib/job-options.mjs';

const URLS = ['https://a.test/'];

/** @param {string[]} args */
const flags = (args) => parseArgs({ args, options: JOB_OPTIONS }).values;

describe('jobBody', () => {
  it('sends only the URLs when no option is given (server defaults apply)', () => {
    assert.deepEqual(jobBody(flags([]), URLS), { urls: URLS });
  });

  it('maps every option to its field', () => {
    const body = jobBody(
      flags([
        '--concurrency=50',
        '--per-host',
        '6',
        '--timeout-ms=10_000',
        '--deadline-ms=600000',
        '--max-attempts=5',
        '--mode=failFast',
        '--max-bytes=1000000',
        '--robots',
        '--select',
        'h1=h1',
        '--select=price=.price span',
        '--callback=https://hook.test/x',
      ]),
      URLS,
    );
    assert.deepEqual(body, {
      urls: URLS,
      concurrency: 50,
      perHostConcurrency: 6,
      timeoutMs: 10000,
      deadlineMs: 600000,
      retry: { maxAttempts: 5 },
      mode: 'failFast',
      maxBytes: 1000000,
      respectRobots: true,
      extract: { selectors: { h1: 'h1', price: '.price span' } },
      callbackUrl: 'https://hook.test/x',
    });
  });

  it('maps the request, failure and extraction options', () => {
    const body = jobBody(
      flags([
        '--max-failures=10%',
        '--header',
        'Accept-Language: de',
        '--header=X-Token:  a:b ',
        '--user-agent=MyBot/1.0',
        '--links',
        '--meta',
      ]),
      URLS,
    );
    assert.deepEqual(body, {
      urls: URLS,
      maxFailures: '10%',
      headers: { 'Accept-Language': 'de', 'X-Token': 'a:b' },
      userAgent: 'MyBot/1.0',
      extract: { links: true, meta: true },
    });
    assert.deepEqual(jobBody(flags(['--max-failures', '3']), URLS).maxFailures, 3);
    const paced = jobBody(
      flags(['--per-host-delay-ms=500', '--base-delay-ms', '100', '--max-delay-ms=2000']),
      URLS,
    );
    assert.deepEqual(paced, {
      urls: URLS,
      perHostDelayMs: 500,
      retry: { baseDelayMs: 100, maxDelayMs: 2000 },
    });
    assert.throws(() => jobBody(flags(['--header', 'no colon']), URLS), UsageError);
    assert.throws(() => jobBody(flags(['--max-failures', 'x']), URLS), UsageError);
  });

  it('refuses an empty URL list', () => {
    assert.throws(() => jobBody(flags([]), []), UsageError);
  });

  it('refuses a bad mode', () => {
    assert.throws(() => jobBody(flags(['--mode=fast']), URLS), /--mode/);
  });

  it('refuses a non-integer number', () => {
    assert.throws(
      () => jobBody(flags(['--concurrency=ten']), URLS),
      /--concurrency: expected an integer/,
    );
    assert.throws(() => jobBody(flags(['--timeout-ms=1.5']), URLS), UsageError);
    assert.throws(() => jobBody(flags(['--max-bytes=-1']), URLS), UsageError);
  });
});

describe('intOption', () => {
  it('parses integers, allowing _ separators', () => {
    assert.equal(intOption('x', undefined), undefined);
    assert.equal(intOption('x', '0'), 0);
    assert.equal(intOption('x', '100_000'), 100000);
    assert.throws(() => intOption('x', ''), UsageError);
    assert.throws(() => intOption('x', '1e3'), UsageError);
  });
});

describe('parseSelectors', () => {
  it('splits at the first =', () => {
    assert.deepEqual(parseSelectors(['a=[data-x=y]']), { a: '[data-x=y]' });
  });

  it('refuses a malformed or repeated selector', () => {
    assert.throws(() => parseSelectors(['h1']), /name=css/);
    assert.throws(() => parseSelectors(['=h1']), /name=css/);
    assert.throws(() => parseSelectors(['h1=']), /name=css/);
    assert.throws(() => parseSelectors(['h1=h1', 'h1=h2']), /twice/);
  });

  it('is undefined when none are given', () => {
    assert.equal(parseSelectors(undefined), undefined);
    assert.equal(parseSelectors([]), undefined);
  });
});

describe('--compare-with and --notify', () => {
  it('become compareWith and notify; left out, neither is sent', () => {
    const body = jobBody(flags(['--compare-with', 'j0abc', '--notify', 'changes']), [
      'https://a.test/',
    ]);
    assert.deepEqual(body, { urls: ['https://a.test/'], compareWith: 'j0abc', notify: 'changes' });
    const plain = jobBody(flags([]), ['https://a.test/']);
    assert.equal('compareWith' in plain || 'notify' in plain, false);
  });
  it('refuses a notify the API does not know', () => {
    assert.throws(() => jobBody(flags(['--notify', 'sometimes']), ['https://a.test/']), {
      message: '--notify: expected always or changes, got "sometimes"',
    });
  });
});

describe('--render and its refinements', () => {
  const body = (/** @type {string[]} */ args) => jobBody(flags(args), URLS);

  it('--render renders every page, --render-auto the script-built ones; left out, none is sent', () => {
    assert.deepEqual(body(['--render']), { urls: URLS, render: true });
    assert.deepEqual(body(['--render-auto']), { urls: URLS, render: 'auto' });
    const plain = body([]);
    assert.equal('render' in plain || 'renderConcurrency' in plain, false);
  });

  it('refines the mode into an object with only the refinements given', () => {
    assert.deepEqual(
      body([
        '--render-auto',
        '--render-wait-until=networkidle0',
        '--render-wait-for',
        '#app h1',
        '--render-all-resources',
      ]),
      {
        urls: URLS,
        render: {
          mode: 'auto',
          waitUntil: 'networkidle0',
          waitForSelector: '#app h1',
          blockResources: false,
        },
      },
    );
    assert.deepEqual(body(['--render', '--render-wait-for=main']), {
      urls: URLS,
      render: { mode: true, waitForSelector: 'main' },
    });
  });

  it('--render-concurrency becomes renderConcurrency', () => {
    assert.deepEqual(body(['--render', '--render-concurrency', '4']), {
      urls: URLS,
      render: true,
      renderConcurrency: 4,
    });
    assert.throws(
      () => body(['--render-concurrency=two']),
      /--render-concurrency: expected an integer/,
    );
  });

  it('refuses both modes, a refinement without one, and an unknown wait', () => {
    assert.throws(() => body(['--render', '--render-auto']), {
      message: '--render and --render-auto: give one of them',
    });
    assert.throws(() => body(['--render-wait-for=main']), {
      message: '--render-wait-for: needs --render or --render-auto',
    });
    assert.throws(() => body(['--render-all-resources']), {
      message: '--render-all-resources: needs --render or --render-auto',
    });
    assert.throws(() => body(['--render', '--render-wait-until=idle']), {
      message: '--render-wait-until: expected load, domcontentloaded or networkidle0, got "idle"',
    });
  });
});
