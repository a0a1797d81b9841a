import type { Assets } from './assets.js';
import { type Html, html } from './html.js';

/** An organization as the signed-in person sees it. */
export interface ViewerOrg {
  readonly orgId: string;
  readonly name: string;
  readonly role: 'admin' | 'member';
}

/** The signed-in person, as the page shell needs them. */
export interface Viewer {
  readonly email: string;
  readonly systemAdmin: boolean;
  readonly orgs: readonly ViewerOrg[];
}

export interface PageOptions {
  /** The first part of the document title ("API", "Sign in"). */
  readonly title: string;
  readonly viewer: Viewer | null;
  /** The organization the page is about, marked current in the user menu. */
  readonly orgId?: string;
  /** Module scripts under /static (e.g. `js/keys.js`); `js/shell.js` is always loaded for a viewer. */
  readonly scripts?: readonly string[];
  /** `narrow` centres a small card (sign in). */
  readonly width?: 'normal' | 'narrow';
  /** Server time in ms, so scripts can say "in 1 hour" against the server's clock, not the browser's. */
  readonly serverNow?: number;
  readonly body: Html;
}

/** The whole document: header with the product name and the user menu, the main content, a live region. */
export function renderPage(assets: Assets, options: PageOptions): string {
  const scripts = [...(options.viewer === null ? [] : ['js/shell.js']), ...(options.scripts ?? [])];
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · agentpack</title>
<link rel="icon" href="${assets.url('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assets.url('app.css')}">
${scripts.map((name) => html`<script type="module" src="${assets.url(name)}"></script>`)}
</head>
<body data-server-now="${options.serverNow ?? ''}">
<a class="skip-link" href="#main">Skip to main content</a>
<header class="topbar">
  <div class="topbar-inner">
    <a class="brand" href="/">${brandMark()}<span class="brand-name">agentpack</span></a>
    ${options.viewer === null ? null : userMenu(options.viewer, options.orgId)}
  </div>
</header>
<main id="main" class="page${options.width === 'narrow' ? ' page-narrow' : ''}" tabindex="-1">
${options.body}
</main>
<footer class="footer">
  <div class="footer-inner">
    <span>agentpack</span>
    <a href="/docs">API documentation</a>
    <a href="/.well-known/agentpack/signing-key.pem">Signing key</a>
  </div>
</footer>
<div id="announcer" class="toast" role="status" aria-live="polite" aria-atomic="true"></div>
</body>
</html>
`;
  return doc.text;
}

function brandMark(): Html {
  return html`<svg class="brand-mark" viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
<rect x="2" y="2" width="28" height="28" rx="8" class="brand-mark-bg"/>
<path d="M9 12.5 16 9l7 3.5v7L16 23l-7-3.5z" class="brand-mark-box"/>
<path d="M9 12.5 16 16l7-3.5M16 16v7" class="brand-mark-line"/>
</svg>`;
}

function initials(email: string): string {
  const name = email.split('@')[0] ?? email;
  const parts = name.split(/[._-]+/).filter((part) => part.length > 0);
  const letters = parts.length > 1 ? `${parts[0]?.[0] ?? ''}${parts[1]?.[0] ?? ''}` : name.slice(0, 2);
  return letters.toUpperCase();
}

function userMenu(viewer: Viewer, currentOrg: string | undefined): Html {
  const orgLinks = viewer.orgs.map(
    (
      org,
    ) => html`<li><a href="/orgs/${org.orgId}/settings/api"${org.orgId === currentOrg ? html` aria-current="true"` : null}>
      <span>${org.name}</span><span class="menu-note">${org.role}</span></a></li>`,
  );
  return html`<div class="user-menu" data-user-menu>
  <button type="button" class="user-button" aria-expanded="false" aria-controls="user-menu-panel" aria-label="User menu for ${viewer.email}">
    <span class="avatar" aria-hidden="true">${initials(viewer.email)}</span>
    <span class="user-email">${viewer.email}</span>
    <svg class="chevron" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><path d="M4 6l4 4 4-4"/></svg>
  </button>
  <div id="user-menu-panel" class="menu" hidden>
    <p class="menu-who">Signed in as <strong>${viewer.email}</strong>${viewer.systemAdmin ? html`<span class="badge">system admin</span>` : null}</p>
    ${
      viewer.orgs.length === 0
        ? null
        : html`<p class="menu-heading" id="menu-orgs">Organization Settings</p>
    <ul class="menu-list" aria-labelledby="menu-orgs">${orgLinks}</ul>`
    }
    ${
      viewer.systemAdmin
        ? html`<p class="menu-heading" id="menu-system">System</p>
    <ul class="menu-list" aria-labelledby="menu-system">
      <li><a href="/system/settings/api">System Settings</a></li>
      <li><a href="/system/catalog">Agent catalog</a></li>
    </ul>`
        : null
    }
    <div class="menu-foot"><button type="button" class="button button-quiet" data-sign-out>Sign out</button></div>
  </div>
</div>`;
}

/** A section heading row with tabs below, for the organization and system areas. */
export function areaHeader(options: {
  readonly eyebrow: string;
  readonly title: string;
  readonly subtitle?: Html | string;
  readonly tabsLabel: string;
  readonly tabs: readonly { readonly href: string; readonly label: string; readonly current: boolean }[];
}): Html {
  return html`<div class="area-head">
  <p class="eyebrow">${options.eyebrow}</p>
  <h1>${options.title}</h1>
  ${options.subtitle === undefined ? null : html`<p class="lede">${options.subtitle}</p>`}
</div>
<nav class="tabs" aria-label="${options.tabsLabel}">
  <ul>${options.tabs.map(
    (tab) =>
      html`<li><a href="${tab.href}"${tab.current ? html` aria-current="page"` : null}>${tab.label}</a></li>`,
  )}</ul>
</nav>`;
}
