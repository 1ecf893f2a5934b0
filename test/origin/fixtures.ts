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
};
