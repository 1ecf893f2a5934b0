import type { Child } from 'hono/jsx';
import { APP_SCRIPT, APP_STYLES } from './assets';

interface LayoutProps {
  /** The page's title, before " · scrape-fanout". */
  title: string;
  /** Which page the script runs (`<body data-page>`). */
  page: 'dashboard' | 'job';
  children: Child;
}

/** The token form: the token never gets a `name`, so even a form sent without script sends nothing. */
function TokenBox() {
  return (
    <section class="token" aria-label="API access">
      <form id="token-form" class="token-form" method="post" action="/" autocomplete="off">
        <label for="token-input">API token</label>
        <input
          id="token-input"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          aria-describedby="token-hint"
        />
        <button type="submit">Use token</button>
        <p id="token-hint" class="hint">
          Kept in this browser tab only (sessionStorage), never in a URL.
        </p>
      </form>
      <p id="token-set" class="token-set" hidden>
        Token set for this tab.{' '}
        <button type="button" id="token-forget" class="secondary">
          Forget token
        </button>
      </p>
    </section>
  );
}

/** The frame of every dashboard page: a shell with no data; the script fills it from /v1. */
export function Layout({ title, page, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · scrape-fanout`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={APP_STYLES.href} />
        <script src={APP_SCRIPT.href} defer />
      </head>
      <body data-page={page}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            scrape-fanout
          </a>
          <nav aria-label="Main">
            <a href="/">Jobs</a>
            <a href="/docs">API docs</a>
          </nav>
          <TokenBox />
        </header>
        <main id="main" tabindex={-1}>
          <noscript>
            <p class="error">This dashboard needs JavaScript: it reads everything from /v1.</p>
          </noscript>
          <p id="need-token" class="notice">
            Enter the API token above to load data.
          </p>
          <p id="message" class="message" role="status" aria-live="polite" />
          <p id="alert" class="error" role="alert" hidden />
          {children}
        </main>
      </body>
    </html>
  );
}
