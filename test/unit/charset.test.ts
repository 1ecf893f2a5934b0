// How a body's charset is chosen: byte-order mark, then Content-Type, then <meta>, then UTF-8.
import { describe, expect, it } from 'vitest';
import {
  bodyCharset,
  charsetFromContentType,
  decoderFirst,
  isUtf8,
  SNIFF_BYTES,
} from '../../src/fetch/charset';

/** The bytes of an ASCII (or latin1) string, one per character. */
function bytes(text: string, ...prefix: number[]): Uint8Array {
  return Uint8Array.from([...prefix, ...Array.from(text, (c) => c.charCodeAt(0))]);
}

describe('charsetFromContentType', () => {
  it('is null without a charset parameter', () => {
    expect(charsetFromContentType(null)).toBeNull();
    expect(charsetFromContentType('')).toBeNull();
    expect(charsetFromContentType('text/html')).toBeNull();
    expect(charsetFromContentType('text/html; mycharset=koi8-r')).toBeNull();
    expect(charsetFromContentType('charset=koi8-r')).toBeNull();
  });

  it('reads a token, lower-cased, up to whitespace or the next parameter', () => {
    expect(charsetFromContentType('text/html; charset=UTF-8')).toBe('utf-8');
    expect(charsetFromContentType('text/html;charset=ISO-8859-1')).toBe('iso-8859-1');
    expect(charsetFromContentType('text/html;   charset  =  koi8-r')).toBe('koi8-r');
    expect(charsetFromContentType('text/html; CharSet=Shift_JIS;q=1')).toBe('shift_jis');
    expect(charsetFromContentType('text/html; charset=euc-jp x')).toBe('euc-jp');
    expect(charsetFromContentType('text/html; foo=1; charset=gbk')).toBe('gbk');
  });

  it('reads a quoted value, trimmed; an empty one is none', () => {
    expect(charsetFromContentType('text/html; charset="Windows-1251"')).toBe('windows-1251');
    expect(charsetFromContentType('text/html; charset=" big5 "')).toBe('big5');
    expect(charsetFromContentType('text/html; charset="a;b"')).toBe('a;b');
    expect(charsetFromContentType('text/html; charset=""')).toBeNull();
    expect(charsetFromContentType('text/html; charset=" "')).toBeNull();
  });
});

describe('bodyCharset: byte-order marks', () => {
  it('takes a byte-order mark over the header', () => {
    expect(bodyCharset(bytes('<p>', 0xef, 0xbb, 0xbf), 'iso-8859-2')).toBe('utf-8');
    expect(bodyCharset(bytes('', 0xfe, 0xff), 'iso-8859-2')).toBe('utf-16be');
    expect(bodyCharset(bytes('', 0xff, 0xfe), 'iso-8859-2')).toBe('utf-16le');
  });

  it('needs every byte of the mark', () => {
    for (const head of [
      [0x00, 0xbb, 0xbf],
      [0xef, 0x00, 0xbf],
      [0xef, 0xbb, 0x00],
      [0xef, 0xbb],
      [0x00, 0xff],
      [0xfe, 0x00],
      [0x00, 0xfe],
      [0xff, 0x00],
      [0xfe],
      [0xff],
    ]) {
      expect(bodyCharset(Uint8Array.from(head), 'iso-8859-2')).toBe('iso-8859-2');
    }
  });
});

describe('bodyCharset: header, then <meta>', () => {
  it('takes the header charset over a <meta>', () => {
    expect(bodyCharset(bytes('<meta charset="koi8-r">'), 'gbk')).toBe('gbk');
  });

  it('falls back to UTF-8 with neither', () => {
    expect(bodyCharset(bytes('<title>x</title>'), null)).toBe('utf-8');
    expect(bodyCharset(new Uint8Array(), null)).toBe('utf-8');
  });

  it('reads <meta charset> in its spellings', () => {
    expect(bodyCharset(bytes('<meta charset="Windows-1251">'), null)).toBe('windows-1251');
    expect(bodyCharset(bytes("<META CHARSET='koi8-r'>"), null)).toBe('koi8-r');
    expect(bodyCharset(bytes('<meta charset=iso-8859-15>'), null)).toBe('iso-8859-15');
    expect(bodyCharset(bytes('<meta\ncharset = " euc-kr ">'), null)).toBe('euc-kr');
    expect(bodyCharset(bytes('<meta name=x charset=x-mac.cyr:1_a>'), null)).toBe('x-mac.cyr:1_a');
  });

  it('reads the charset of <meta http-equiv content>', () => {
    const meta = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-7">';
    expect(bodyCharset(bytes(`<head>${meta}</head>`), null)).toBe('iso-8859-7');
  });

  it('needs whitespace after meta', () => {
    expect(bodyCharset(bytes('<metacharset="koi8-r">'), null)).toBe('utf-8');
  });

  it('maps UTF-16 to UTF-8 and x-user-defined to windows-1252', () => {
    expect(bodyCharset(bytes('<meta charset="UTF-16LE">'), null)).toBe('utf-8');
    expect(bodyCharset(bytes('<meta charset="utf-16">'), null)).toBe('utf-8');
    expect(bodyCharset(bytes('<meta charset="x-user-defined">'), null)).toBe('windows-1252');
  });

  it('ignores a <meta> inside a comment, closed or not', () => {
    expect(bodyCharset(bytes('<!-- <meta charset="koi8-r"> -->'), null)).toBe('utf-8');
    expect(bodyCharset(bytes('<!-- x --><meta charset="koi8-r">'), null)).toBe('koi8-r');
    expect(bodyCharset(bytes('<!-- <meta charset="koi8-r">'), null)).toBe('utf-8');
    expect(bodyCharset(bytes('<!-- a --><!-- b --><meta charset=gbk><!-- c -->'), null)).toBe(
      'gbk',
    );
  });

  it(`looks at the first ${SNIFF_BYTES} bytes only`, () => {
    expect(SNIFF_BYTES).toBe(1024);
    const meta = '<meta charset=koi8-r>';
    // The label's first character is the last byte examined: it is read, cut to one letter.
    const within = ' '.repeat(SNIFF_BYTES - meta.length + 6) + meta;
    expect(bodyCharset(bytes(within), null)).toBe('k');
    const whole = ' '.repeat(SNIFF_BYTES - meta.length) + meta;
    expect(bodyCharset(bytes(whole), null)).toBe('koi8-r');
    const past = ' '.repeat(SNIFF_BYTES - meta.length + 7) + meta;
    expect(bodyCharset(bytes(past), null)).toBe('utf-8');
  });

  it('reads raw high bytes as latin1 characters', () => {
    expect(bodyCharset(bytes('\u00e9<meta charset=koi8-r>'), null)).toBe('koi8-r');
  });
});

describe('isUtf8', () => {
  it('knows the UTF-8 labels', () => {
    expect(isUtf8('utf-8')).toBe(true);
    expect(isUtf8('utf8')).toBe(true);
    expect(isUtf8('unicode-1-1-utf-8')).toBe(true);
    expect(isUtf8('utf-16le')).toBe(false);
    expect(isUtf8('windows-1252')).toBe(false);
    expect(isUtf8('')).toBe(false);
  });
});

describe('decoderFirst', () => {
  it('decodes UTF-16 and ISO-2022-JP before parsing, by any of their labels', () => {
    for (const [label, encoding] of [
      ['utf-16le', 'utf-16le'],
      ['utf-16', 'utf-16le'],
      ['ucs-2', 'utf-16le'],
      ['unicodefeff', 'utf-16le'],
      ['utf-16be', 'utf-16be'],
      ['unicodefffe', 'utf-16be'],
      ['iso-2022-jp', 'iso-2022-jp'],
      ['csiso2022jp', 'iso-2022-jp'],
    ] as const) {
      expect({ label, encoding: decoderFirst(label)?.encoding }).toEqual({ label, encoding });
    }
    expect(decoderFirst('utf-16be')?.decode(Uint8Array.from([0xfe, 0xff, 0x00, 0xe9]))).toBe(
      '\u00e9',
    );
  });

  it('leaves every other charset to the parser, known or not', () => {
    for (const label of [
      'utf-8',
      'utf8',
      'shift_jis',
      'windows-1251',
      'iso-2022-kr',
      'x-bogus',
      '',
    ]) {
      expect({ label, decoder: decoderFirst(label) }).toEqual({ label, decoder: null });
    }
  });
});
