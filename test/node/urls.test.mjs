import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { parseUrlLine, readUrlList, readUrlSource } from '../../bin/lib/urls.mjs';

describe('parseUrlLine', () => {
  it('skips blank lines and # comments, trims the rest', () => {
    assert.equal(parseUrlLine(''), null);
    assert.equal(parseUrlLine('   \t'), null);
    assert.equal(parseUrlLine('# a comment'), null);
    assert.equal(parseUrlLine('   # indented comment'), null);
    assert.equal(parseUrlLine('  https://a.test/x  '), 'https://a.test/x');
    assert.equal(parseUrlLine('https://a.test/x\r'), 'https://a.test/x');
    assert.equal(parseUrlLine('\uFEFFhttps://a.test/'), 'https://a.test/');
  });

  it('keeps a # inside a URL (a fragment)', () => {
    assert.equal(parseUrlLine('https://a.test/page#top'), 'https://a.test/page#top');
  });
});

describe('readUrlList', () => {
  it('reads URLs with their line numbers, across chunk boundaries and CRLF', async () => {
    const text = '# list\r\nhttps://a.test/1\r\n\r\n  https://a.test/2\n# x\nhttps://a.test/3';
    const chunks = text.match(/.{1,5}/gs) ?? [];
    const { urls, lines } = await readUrlList(Readable.from(chunks));
    assert.deepEqual(urls, ['https://a.test/1', 'https://a.test/2', 'https://a.test/3']);
    assert.deepEqual(lines, [2, 4, 6]);
  });

  it('handles an empty input', async () => {
    assert.deepEqual(await readUrlList(Readable.from([])), { urls: [], lines: [] });
  });

  it('streams a large list', async () => {
    function* gen() {
      for (let i = 0; i < 100_000; i++) yield `https://a.test/${i}\n`;
    }
    const { urls } = await readUrlList(Readable.from(gen()));
    assert.equal(urls.length, 100_000);
    assert.equal(urls[99_999], 'https://a.test/99999');
  });
});

describe('readUrlSource', () => {
  it('reads a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sf-urls-'));
    const file = join(dir, 'urls.txt');
    await writeFile(file, 'https://a.test/1\n#c\nhttps://a.test/2\n');
    assert.deepEqual((await readUrlSource(file)).urls, ['https://a.test/1', 'https://a.test/2']);
  });

  it('fails clearly for a missing file', async () => {
    await assert.rejects(readUrlSource('/nonexistent/urls.txt'), { code: 'ENOENT' });
  });
});
