import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { openServices } from '../../src/services.js';
import { createTestApp, login, type TestApp } from './harness.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('POST /api/v1/session', () => {
  it('logs in with e-mail and password and sets an HttpOnly, SameSite=Strict session cookie', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: t.admin.email, password: t.admin.password },
    });
    expect(response.statusCode).toBe(200);
    const cookie = response.cookies.find((c) => c.name === 'agentpack_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', maxAge: 12 * 3600 });
    expect(cookie?.secure).toBeUndefined();
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const body = response.json();
    expect(body.user).toEqual({ userId: t.admin.userId, email: t.admin.email, systemAdmin: false });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.orgs.map((o: { slug: string; role: string }) => [o.slug, o.role])).toEqual([
      ['acme', 'admin'],
    ]);
  });

  it('marks the cookie Secure when the public URL is https', async () => {
    const secure = await createTestApp({ env: { AGENTPACK_PUBLIC_URL: 'https://agentpack.example.com' } });
    try {
      const response = await secure.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: secure.admin.email, password: secure.admin.password },
      });
      expect(response.cookies.find((c) => c.name === 'agentpack_session')?.secure).toBe(true);
    } finally {
      await secure.close();
    }
  });

  it('answers 401 with the same message for a wrong password and an unknown user, and sets no cookie', async () => {
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: t.admin.email, password: 'not the password' },
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'nobody@acme.test', password: 'not the password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json()).toEqual({ error: 'UNAUTHENTICATED', message: 'invalid e-mail or password' });
    expect(wrong.cookies).toHaveLength(0);
  });

  it('answers 400 with a message for a body without a password', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'a@b.c' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: 'BAD_REQUEST',
      message: "body must have required property 'password'",
    });
  });

  it('still logs in when the browser sends a stale session cookie', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers: { cookie: 'agentpack_session=stale' },
      payload: { email: t.member.email, password: t.member.password },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('GET /api/v1/session', () => {
  it('returns the user, the same CSRF token and the organizations they see', async () => {
    const session = await login(t.app, t.member);
    const response = await t.app.inject({ url: '/api/v1/session', headers: { cookie: session.cookie } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      user: { email: t.member.email },
      csrfToken: session.csrfToken,
      orgs: [{ orgId: t.acme.orgId, name: 'Acme', role: 'member' }],
    });
  });

  it('shows a system admin every organization', async () => {
    const { credentials } = t.services;
    const root = await credentials.addUser(
      {
        email: 'root@agentpack.test',
        orgId: t.other.orgId,
        role: 'member',
        password: 'root password 1',
        systemAdmin: true,
      },
      'test',
    );
    const session = await login(t.app, { ...root, password: 'root password 1', serviceKey: '' });
    const response = await t.app.inject({ url: '/api/v1/session', headers: { cookie: session.cookie } });
    expect(response.json().orgs.map((o: { slug: string; role: string }) => [o.slug, o.role])).toEqual([
      ['acme', 'admin'],
      ['other', 'admin'],
    ]);
  });

  it('answers 401 without a session', async () => {
    const response = await t.app.inject({ url: '/api/v1/session' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error).toBe('UNAUTHENTICATED');
  });

  it('answers 401 and clears the cookie once the session is 12 hours old', async () => {
    const session = await login(t.app, t.member);
    t.clock += 12 * 3600_000 - 1000;
    expect(
      (await t.app.inject({ url: '/api/v1/session', headers: { cookie: session.cookie } })).statusCode,
    ).toBe(200);
    t.clock += 1000;
    const expired = await t.app.inject({ url: '/api/v1/session', headers: { cookie: session.cookie } });
    expect(expired.statusCode).toBe(401);
    expect(expired.cookies.find((c) => c.name === 'agentpack_session')?.value).toBe('');
  });

  it('is kept in the database: a second instance on the same store sees the session', async () => {
    const session = await login(t.app, t.member);
    const services = await openServices(t.config, { now: () => t.clock });
    const second = await buildApp(services, t.config, { logger: false });
    try {
      const response = await second.inject({ url: '/api/v1/session', headers: { cookie: session.cookie } });
      expect(response.statusCode).toBe(200);
      expect(response.json().csrfToken).toBe(session.csrfToken);
    } finally {
      await second.close();
      await services.close();
    }
  });
});

describe('DELETE /api/v1/session', () => {
  it('answers 403 without the CSRF token and keeps the session', async () => {
    const session = await login(t.app, t.member);
    const response = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie: session.cookie },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().message).toMatch(/X-CSRF-Token/);
    expect(
      (await t.app.inject({ url: '/api/v1/session', headers: { cookie: session.cookie } })).statusCode,
    ).toBe(200);
  });

  it('answers 403 with the CSRF token of another session', async () => {
    const mine = await login(t.app, t.member);
    const theirs = await login(t.app, t.admin);
    const response = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie: mine.cookie, 'x-csrf-token': theirs.csrfToken },
    });
    expect(response.statusCode).toBe(403);
  });

  it('logs out with the token: 204, the cookie is cleared and the session no longer works', async () => {
    const session = await login(t.app, t.member);
    const response = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: session.headers,
    });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(response.cookies.find((c) => c.name === 'agentpack_session')?.value).toBe('');
    expect(
      (await t.app.inject({ url: '/api/v1/session', headers: { cookie: session.cookie } })).statusCode,
    ).toBe(401);
  });
});
