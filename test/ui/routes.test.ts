/**
 * The UI routes through app.inject: redirects, status pages, headers and static assets. The
 * behaviour in a browser is covered by pages.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, login, type TestApp } from '../http/harness.js';

let t: TestApp;
let adminCookie: string;
let memberCookie: string;

beforeAll(async () => {
  t = await createTestApp();
  adminCookie = (await login(t.app, t.admin)).cookie;
  memberCookie = (await login(t.app, t.member)).cookie;
});
afterAll(async () => {
  await t.close();
});

describe('GET /', () => {
  it('sends a visitor to sign in and a signed-in person to their organization', async () => {
    const visitor = await t.app.inject({ url: '/' });
    expect(visitor.statusCode).toBe(303);
    expect(visitor.headers.location).toBe('/login');
    const admin = await t.app.inject({ url: '/', headers: { cookie: adminCookie } });
    expect(admin.headers.location).toBe(`/orgs/${t.acme.orgId}/settings/api`);
  });

  it('treats a stale session cookie as no session and clears it', async () => {
    const response = await t.app.inject({
      url: '/',
      headers: { cookie: `agentpack_session=${'x'.repeat(43)}` },
    });
    expect(response.headers.location).toBe('/login');
    expect(String(response.headers['set-cookie'])).toMatch(/agentpack_session=;/);
  });
});

describe('GET /login', () => {
  it('keeps a path on this site as the next page and drops anything else', async () => {
    const local = await t.app.inject({ url: `/login?next=${encodeURIComponent('/system/catalog')}` });
    expect(local.body).toContain('data-next="/system/catalog"');
    for (const next of ['//evil.test/x', '/\\evil.test', 'https://evil.test/', '/a b']) {
      const response = await t.app.inject({ url: `/login?next=${encodeURIComponent(next)}` });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('data-next="/"');
    }
  });

  it('sends someone already signed in straight on', async () => {
    const response = await t.app.inject({
      url: `/login?next=${encodeURIComponent('/system/catalog')}`,
      headers: { cookie: adminCookie },
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/system/catalog');
  });
});

describe('organization pages', () => {
  it('ask a visitor to sign in, coming back to the same page', async () => {
    const url = `/orgs/${t.acme.orgId}/settings/api`;
    const response = await t.app.inject({ url });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/login?next=${encodeURIComponent(url)}`);
  });

  it('answer HTML with no-store, a strict CSP and no key in them', async () => {
    for (const path of ['settings/api', 'download', 'settings/audit']) {
      const response = await t.app.inject({
        url: `/orgs/${t.acme.orgId}/${path}`,
        headers: { cookie: adminCookie },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(String(response.headers['content-security-policy'])).not.toContain('unsafe-inline');
      const scripts = response.body.match(/<script[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toMatch(/ src="\/static\/| type="application\/json"/);
      for (const secret of [t.acme.apiKey, t.acme.agent.serviceKey, t.admin.serviceKey]) {
        expect(response.body).not.toContain(secret);
      }
    }
  });

  it('answer the 404 page for another organization, an unknown one or a malformed id', async () => {
    for (const orgId of [t.other.orgId, '00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      const response = await t.app.inject({
        url: `/orgs/${orgId}/settings/api`,
        headers: { cookie: adminCookie },
      });
      expect(response.statusCode).toBe(404);
      expect(response.body).toContain('Page not found');
      expect(response.body).not.toContain('Other');
    }
  });

  it('show rotate controls to admins only', async () => {
    const url = `/orgs/${t.acme.orgId}/settings/api`;
    const admin = await t.app.inject({ url, headers: { cookie: adminCookie } });
    const member = await t.app.inject({ url, headers: { cookie: memberCookie } });
    expect(admin.body).toContain('Rotate agent service key');
    expect(admin.body).toContain('data-can-rotate="true"');
    expect(member.body).not.toContain('Rotate');
    expect(member.body).toContain('data-can-rotate="false"');
  });
});

describe('system pages', () => {
  it('answer 403 pages to people who are not system admins', async () => {
    for (const url of ['/system/settings/api', '/system/catalog']) {
      const response = await t.app.inject({ url, headers: { cookie: adminCookie } });
      expect(response.statusCode).toBe(403);
      expect(response.body).toContain('System administrators only');
    }
  });
});

describe('GET /static/*', () => {
  it('serves the stylesheet and scripts with an ETag, immutable when the URL carries their version', async () => {
    const page = await t.app.inject({ url: '/login' });
    const css = /href="(\/static\/app\.css\?v=[0-9a-f]{12})"/.exec(page.body)?.[1] ?? '';
    const versioned = await t.app.inject({ url: css });
    expect(versioned.statusCode).toBe(200);
    expect(versioned.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(versioned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const plain = await t.app.inject({ url: '/static/js/common.js' });
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('no-cache');
    const again = await t.app.inject({
      url: '/static/js/common.js',
      headers: { 'if-none-match': String(plain.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('answers 404 for anything that is not one of its files', async () => {
    for (const url of [
      '/static/nope.js',
      '/static/../package.json',
      '/static/%2e%2e/src/config.ts',
      '/static/js',
    ]) {
      const response = await t.app.inject({ url });
      expect(response.statusCode).toBe(404);
    }
  });
});
