import type { Assets } from '../assets.js';
import { html } from '../html.js';
import { renderPage, type Viewer } from '../layout.js';

/** Sign in: e-mail and password; js/login.js posts them to /api/v1/session and goes on to `next`. */
export function loginPage(assets: Assets, next: string | null): string {
  return renderPage(assets, {
    title: 'Sign in',
    viewer: null,
    width: 'narrow',
    scripts: ['js/login.js'],
    body: html`<section class="card auth-card" aria-labelledby="login-title">
  <h1 id="login-title">Sign in</h1>
  <p class="lede">Your organization's keys and ready-to-run agents.</p>
  <form class="form" data-login-form data-next="${next ?? '/'}" novalidate>
    <div class="form-field">
      <label for="email">E-mail</label>
      <input id="email" name="email" type="email" autocomplete="username" required spellcheck="false" autofocus>
    </div>
    <div class="form-field">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
    </div>
    <p class="form-error" data-login-error role="alert" hidden></p>
    <button type="submit" class="button button-primary button-block" data-login-submit><span>Sign in</span></button>
  </form>
  <noscript><p class="notice notice-error">This page needs JavaScript to sign you in.</p></noscript>
</section>`,
  });
}

/** Sign out: a confirmation while signed in (the button sends the CSRF token), a farewell after. */
export function logoutPage(assets: Assets, viewer: Viewer | null): string {
  const body =
    viewer === null
      ? html`<section class="card auth-card" aria-labelledby="logout-title">
  <h1 id="logout-title">You are signed out</h1>
  <p class="lede">Thanks for keeping your keys safe. Close this tab, or sign in again.</p>
  <a class="button button-primary button-block" href="/login">Sign in again</a>
</section>`
      : html`<section class="card auth-card" aria-labelledby="logout-title">
  <h1 id="logout-title">Sign out?</h1>
  <p class="lede">You are signed in as <strong>${viewer.email}</strong>.</p>
  <p class="form-error" data-logout-error role="alert" hidden></p>
  <div class="stack-tight">
    <button type="button" class="button button-primary button-block" data-sign-out>Sign out</button>
    <a class="button button-block" href="/">Stay signed in</a>
  </div>
</section>`;
  return renderPage(assets, { title: 'Sign out', viewer, width: 'narrow', body });
}
