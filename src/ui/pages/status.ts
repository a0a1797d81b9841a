import type { Assets } from '../assets.js';
import { html } from '../html.js';
import { renderPage, type Viewer } from '../layout.js';

export interface StatusPage {
  readonly status: number;
  readonly title: string;
  readonly message: string;
}

export const NOT_FOUND: StatusPage = {
  status: 404,
  title: 'Page not found',
  message: 'There is no such page, or it belongs to an organization you are not a member of.',
};

export const FORBIDDEN_SYSTEM: StatusPage = {
  status: 403,
  title: 'System administrators only',
  message: 'This page is for system administrators. Ask one if you need something changed here.',
};

export const NO_ORGS: StatusPage = {
  status: 200,
  title: 'No organization yet',
  message: 'You are not a member of any organization. Ask an organization admin to add you.',
};

export const ERROR: StatusPage = {
  status: 500,
  title: 'Something went wrong',
  message:
    'The page could not be shown. Try again in a moment; if it keeps happening, tell your administrator.',
};

/** A calm page for 404, 403 and errors, with a way back. */
export function statusPage(assets: Assets, viewer: Viewer | null, page: StatusPage): string {
  return renderPage(assets, {
    title: page.title,
    viewer,
    width: 'narrow',
    body: html`<section class="card status-card" aria-labelledby="status-title">
  ${page.status >= 400 ? html`<p class="status-code">${page.status}</p>` : null}
  <h1 id="status-title">${page.title}</h1>
  <p class="lede">${page.message}</p>
  <a class="button button-primary" href="${viewer === null ? '/login' : '/'}">${viewer === null ? 'Sign in' : 'Go to your organization'}</a>
</section>`,
  });
}
