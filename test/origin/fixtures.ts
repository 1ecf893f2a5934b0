/**
 * Static HTML fixtures served by the test origin at `/fixture/NAME`, with the values the
 * extraction must produce from them. Bodies are byte strings: `latin1` and `meta-charset`
 * carry a raw 0xE9 byte, so they are written with Buffer.from(body, 'latin1').
 */

export interface Fixture {
  /** The Content-Type header to send. */
  contentType: string;
  /** The body as a latin1 string: each character is one byte on the wire. */
  body: string;
  /** What `title` must be after extraction. */
  title: string | null;
  /** What `links` must be after extraction. */
  links: number;
}

const entities = `<!doctype html>
<html><head>
<title>
  Tom &amp; Jerry&nbsp;&eacute;t&eacute;	&hellip;
  caf&#233;	&#x1F600;   AT&amp T
</title>
</head><body><p>entities</p><a href="/x">x</a></body></html>`;

const trickyLinks = `<!DOCTYPE html>
<html><head><title>Tricky links</title>
<link rel="stylesheet" href="/style.css">
<script>
  document.write('<a href="/in-script">no</a>');
  var s = "<a href='/also-in-script'>no</a>";
</script>
</head>
<body>
<!-- <a href="/in-comment">no</a> -->
<a href="/one">one</a>
<a href="">empty href still counts</a>
<a>no href</a>
<a name="anchor">no href either</a>
<A HREF="/upper">upper</A>
<a href=/unquoted>unquoted</a>
<div><a class="x" href="/nested"><span>nested</span></a></div>
<textarea><a href="/in-textarea">no</a></textarea>
<!--
  <a href="/in-multiline-comment">no</a>
-->
<style>a[href] { color: red } /* <a href="/in-style"> */</style>
<area href="/area">
</body></html>`;

const noTitle = `<!doctype html><html><head><meta charset="utf-8"></head>
<body><h1>No title here</h1><a href="/a">a</a><a href="/b">b</a></body></html>`;

const twoTitles = `<!doctype html><html><head><title>First title</title>
<title>Second title</title></head><body><svg><title>svg title</title></svg></body></html>`;

const selectors = `<!doctype html><html><head><title>Selectors</title></head><body>
<h1>  Main
  heading </h1>
<h1>Second heading</h1>
<div class="product">
  <span class="price"><b>&euro;</b> 12<small>.99</small> &amp; <i>free&nbsp;shipping</i></span>
  <span class="price">99.99</span>
</div>
<p id="empty"></p>
</body></html>`;

// Raw 0xE9 (é in ISO-8859-1 / windows-1252) written as \u00e9, sent as one byte.
const latin1 = `<!doctype html><html><head><title>Caf\u00e9 cr\u00e8me</title></head>
<body><a href="/x">x</a></body></html>`;

const metaCharset = `<!doctype html><html><head>
<meta charset="windows-1252">
<title>Caf\u00e9 \u0080 na\u00efve</title></head>
<body><a href="/x">x</a><a href="/y">y</a></body></html>`;

/** The bytes of `text` in UTF-8, as a latin1 string. */
function utf8(text: string): string {
  return String.fromCharCode(...new TextEncoder().encode(text));
}

/** The bytes of `text` in UTF-16 (little- or big-endian), as a latin1 string. */
function utf16(text: string, bigEndian: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const [first, second] = bigEndian ? [unit >> 8, unit & 0xff] : [unit & 0xff, unit >> 8];
    out += String.fromCharCode(first, second);
  }
  return out;
}

// Non-ASCII in both planes: the pair of U+1F600 must survive the decoding as one character.
const wideTitle = 'Gr\u00fc\u00dfe \u2014 \u65e5\u672c\u8a9e \u{1F600}';
// A UTF-16 page names its charset in a <meta> the parser sees once decoded: it must not
// switch the decoding again.
const wide = `<!doctype html><html><head><meta charset="utf-16"><title>${wideTitle}</title></head>
<body><a href="/one">\u00e9</a><a href="/two">\u00e8</a></body></html>`;

const bomOverHeader = `<!doctype html><html><head><title>Caf\u00e9 cr\u00e8me \u2014 UTF-8</title></head>
<body><a href="/x">x</a></body></html>`;

/** A page in a legacy encoding: `title` and `head` are its bytes, as latin1 strings. */
function legacy(head: string, title: string): string {
  return `<!doctype html><html><head>${head}<title>${title}</title></head>
<body><a href="/x">x</a></body></html>`;
}

// Titles as bytes: "Привет, мир" in windows-1251 and in KOI8-R, "日本語のページ" in Shift_JIS
// and in EUC-JP, "中文网页" in GBK, "Café € naïve" in ISO-8859-1 (0x80 is € there, as
// WHATWG maps ISO-8859-1 to windows-1252).
const PRIVET_1251 = '\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0';
const PRIVET_KOI8 = '\xf0\xd2\xc9\xd7\xc5\xd4, \xcd\xc9\xd2';
const NIHONGO_SJIS = '\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x79\x81\x5b\x83\x57';
const NIHONGO_EUC = '\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5\xda\xa1\xbc\xa5\xb8';
const ZHONGWEN_GBK = '\xd6\xd0\xce\xc4\xcd\xf8\xd2\xb3';
const CAFE_LATIN1 = 'Caf\xe9 \x80 na\xefve';
const HTTP_EQUIV = (charset: string): string =>
  `<meta http-equiv="Content-Type" content="text/html; charset=${charset}">`;

const links = `<!doctype html><html><head><title>Links</title>
<base href="/docs/guide/">
<base href="https://elsewhere.test/">
</head><body>
<a href="intro">relative</a>
<a href="../api?x=1&amp;y=2#part">dot segments, a reference, a fragment</a>
<a href="intro#again">the first one again once the fragment is gone</a>
<a href="/root">root-relative</a>
<a href="//cdn.test/lib">scheme-relative</a>
<a href=" HTTPS://Example.TEST:443/a b ">absolute</a>
<a href="mailto:x@y.test">mail</a>
<a href="javascript:void(0)">script</a>
<a href="data:text/html,hi">data</a>
<a href="ftp://files.test/x">ftp</a>
<a href="http://[bad">no URL</a>
<a href="">the base itself</a>
<a href="#top">the base again</a>
<a href="?q=caf&eacute;">a reference in the query</a>
<a href="?a=1&copy=2">no reference in an attribute before "="</a>
<a name="x">no href</a>
<a href="/root">root again</a>
</body></html>`;

const lateBase = `<!doctype html><html><head><title>Late base</title></head><body>
<a href="a">before the base</a>
<link rel="canonical" href="c">
<base href="https://other.test/x/">
<a href="b">after the base</a>
</body></html>`;

const meta = `<!doctype html><html lang=" en-GB "><head><meta charset="utf-8">
<title>Meta</title>
<meta name="keywords" content="not this">
<meta content="  A page &amp; its
   description: &eacute;t&eacute;  " NAME="Description">
<meta name="description" content="the second, ignored">
<meta property="og:title" content="An &quot;OG&quot; title">
<meta property="og:title" content="the second, ignored">
<link rel="stylesheet" href="/style.css">
<link rel="alternate Canonical" href="../canonical/page?x=1">
<link rel="canonical" href="/the-second-ignored">
</head><body><html lang="fr"><a href="/x">x</a></body></html>`;

/** Every fixture, by name. */
export const FIXTURES: Record<string, Fixture> = {
  entities: {
    contentType: 'text/html; charset=utf-8',
    body: entities,
    title: 'Tom & Jerry\u00a0\u00e9t\u00e9 \u2026 caf\u00e9 \u{1F600} AT& T',
    links: 1,
  },
  'tricky-links': {
    contentType: 'text/html; charset=utf-8',
    body: trickyLinks,
    title: 'Tricky links',
    // /one, href="", /upper, /unquoted, /nested; not script, comments, textarea, style, link, area.
    links: 5,
  },
  'no-title': {
    contentType: 'text/html; charset=utf-8',
    body: noTitle,
    title: null,
    links: 2,
  },
  'two-titles': {
    contentType: 'text/html; charset=utf-8',
    body: twoTitles,
    title: 'First title',
    links: 0,
  },
  selectors: {
    contentType: 'text/html; charset=utf-8',
    body: selectors,
    title: 'Selectors',
    links: 0,
  },
  latin1: {
    contentType: 'text/html; charset=iso-8859-1',
    body: latin1,
    title: 'Caf\u00e9 cr\u00e8me',
    links: 1,
  },
  'meta-charset': {
    contentType: 'text/html',
    body: metaCharset,
    // 0x80 is the euro sign in windows-1252.
    title: 'Caf\u00e9 \u20ac na\u00efve',
    links: 2,
  },
  'utf16le-bom': {
    contentType: 'text/html',
    body: `\xff\xfe${utf16(wide, false)}`,
    title: wideTitle,
    links: 2,
  },
  'utf16be-bom': {
    contentType: 'text/html',
    body: `\xfe\xff${utf16(wide, true)}`,
    title: wideTitle,
    links: 2,
  },
  'utf8-bom-latin1-header': {
    contentType: 'text/html; charset=iso-8859-1',
    body: `\xef\xbb\xbf${utf8(bomOverHeader)}`,
    title: 'Caf\u00e9 cr\u00e8me \u2014 UTF-8',
    links: 1,
  },
  'windows-1251': {
    contentType: 'text/html; charset=windows-1251',
    body: legacy('', PRIVET_1251),
    title: '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440',
    links: 1,
  },
  'koi8-r': {
    contentType: 'text/html',
    body: legacy(HTTP_EQUIV('KOI8-R'), PRIVET_KOI8),
    title: '\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440',
    links: 1,
  },
  shift_jis: {
    contentType: 'text/html',
    body: legacy('<meta charset="Shift_JIS">', NIHONGO_SJIS),
    title: '\u65e5\u672c\u8a9e\u306e\u30da\u30fc\u30b8',
    links: 1,
  },
  'euc-jp': {
    contentType: 'text/html; charset=EUC-JP',
    body: legacy('', NIHONGO_EUC),
    title: '\u65e5\u672c\u8a9e\u306e\u30da\u30fc\u30b8',
    links: 1,
  },
  gbk: {
    contentType: 'text/html',
    body: legacy('<meta charset=gbk>', ZHONGWEN_GBK),
    title: '\u4e2d\u6587\u7f51\u9875',
    links: 1,
  },
  'iso-8859-1-http-equiv': {
    contentType: 'text/html',
    body: legacy(HTTP_EQUIV('iso-8859-1'), CAFE_LATIN1),
    title: 'Caf\u00e9 \u20ac na\u00efve',
    links: 1,
  },
  links: {
    contentType: 'text/html; charset=utf-8',
    body: links,
    title: 'Links',
    links: 16,
  },
  'late-base': {
    contentType: 'text/html; charset=utf-8',
    body: lateBase,
    title: 'Late base',
    links: 2,
  },
  meta: {
    contentType: 'text/html; charset=utf-8',
    body: meta,
    title: 'Meta',
    links: 1,
  },
};

/**
 * The body of `/versioned/NAME` at `version` (test/origin/server.ts): an HTML page (or plain
 * text with `text`) whose content changes with the version, padded with `x` to at least `size`
 * bytes; it holds non-ASCII text, sent as UTF-8.
 */
export function versionedBody(name: string, version: number, size = 0, text = false): string {
  const head = text
    ? `${name} v${version}: caf\u00e9\n`
    : `<!doctype html><html><head><meta charset="utf-8"><title>${name} v${version}</title></head><body><p>caf\u00e9 \u2014 version ${version}</p><a href="/a">a</a><p>`;
  const tail = text ? '\n' : '</p></body></html>\n';
  const length = new TextEncoder().encode(head + tail).length;
  return `${head}${'x'.repeat(Math.max(0, size - length))}${tail}`;
}
