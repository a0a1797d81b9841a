import { type Html, html } from '../html.js';

/** Decorative inline icons (hidden from assistive technology; the button text names the action). */
function icon(paths: Html): Html {
  return html`<svg class="icon" viewBox="0 0 20 20" width="16" height="16" aria-hidden="true" focusable="false">${paths}</svg>`;
}

export const copyIcon = (): Html =>
  icon(
    html`<rect x="7" y="7" width="10" height="10" rx="2"/><path d="M13 7V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v6a2 2 0 0 0 2 2h2"/>`,
  );

export const eyeIcon = (): Html =>
  icon(
    html`<path d="M1.5 10S4.5 4 10 4s8.5 6 8.5 6-3 6-8.5 6-8.5-6-8.5-6z"/><circle cx="10" cy="10" r="2.5"/>`,
  );

export const downloadIcon = (): Html => icon(html`<path d="M10 3v10M5.5 8.5 10 13l4.5-4.5M4 17h12"/>`);

export const linkIcon = (): Html =>
  icon(
    html`<path d="M8.5 11.5a3.5 3.5 0 0 0 5 0l2.5-2.5a3.5 3.5 0 0 0-5-5L10 5"/><path d="M11.5 8.5a3.5 3.5 0 0 0-5 0L4 11a3.5 3.5 0 0 0 5 5l1-1"/>`,
  );

export const uploadIcon = (): Html => icon(html`<path d="M10 14V4M5.5 8.5 10 4l4.5 4.5M4 17h12"/>`);

export const shieldIcon = (): Html =>
  icon(
    html`<path d="M10 2 3.5 4.5v5c0 4 2.8 7.2 6.5 8.5 3.7-1.3 6.5-4.5 6.5-8.5v-5z"/><path d="m7 10 2 2 4-4"/>`,
  );

/** A spinner for work in progress; the surrounding text says what is happening. */
export const spinner = (): Html => html`<span class="spinner" aria-hidden="true"></span>`;
