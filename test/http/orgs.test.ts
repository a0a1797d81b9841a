import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiHeaders, b64, createTestApp, login, type TestApp } from './harness.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('GET /api/v1/orgs', () => {
  it('lists the organizations a signed-in user belongs to, with their role', async () => {
    const session = await login(t.app, t.member);
    const response = await t.app.inject({ url: '/api/v1/orgs', headers: { cookie: session.cookie } });
    expect(response.json()).toEqual({
      orgs: [
        {
          orgId: t.acme.orgId,
          name: 'Acme',
          slug: 'acme',
          agentUserName: t.acme.agent.userName,
          createdAt: new Date(t.clock).toISOString(),
          role: 'member',
        },
      ],
    });
  });
});

describe('GET /api/v1/orgs/{orgId}', () => {
  it('returns the organization and the caller role; another organization is 404', async () => {
    const headers = apiHeaders(t.admin, t.acme);
    const mine = await t.app.inject({ url: `/api/v1/orgs/${t.acme.orgId}`, headers });
    expect(mine.json()).toMatchObject({ orgId: t.acme.orgId, role: 'admin' });
    expect((await t.app.inject({ url: `/api/v1/orgs/${t.other.orgId}`, headers })).statusCode).toBe(404);
  });
});

describe('/api/v1/orgs/{orgId}/members', () => {
  const url = (orgId: string) => `/api/v1/orgs/${orgId}/members`;

  it('lists members for an admin and answers 403 to a member', async () => {
    const response = await t.app.inject({ url: url(t.acme.orgId), headers: apiHeaders(t.admin, t.acme) });
    expect(response.json().members.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      ['admin@acme.test', 'admin'],
      ['member@acme.test', 'member'],
    ]);
    expect(
      (await t.app.inject({ url: url(t.acme.orgId), headers: apiHeaders(t.member, t.acme) })).statusCode,
    ).toBe(403);
  });

  it('adds a member whose personal service key works at once, shown once', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: url(t.acme.orgId),
      headers: apiHeaders(t.admin, t.acme),
      payload: { email: 'ci@acme.test', role: 'member' },
    });
    expect(response.statusCode).toBe(201);
    const added = response.json();
    expect(added).toMatchObject({
      email: 'ci@acme.test',
      orgId: t.acme.orgId,
      role: 'member',
      created: true,
    });
    expect(added.serviceKey).toMatch(/^apu_/);
    const asCi = await t.app.inject({
      url: '/api/v1/orgs',
      headers: { authorization: b64(`ci@acme.test:${added.serviceKey}`), 'api-key': t.acme.apiKey },
    });
    expect(asCi.statusCode).toBe(200);
  });

  it('answers 409 for an existing member and 400 for a bad e-mail or role', async () => {
    const headers = apiHeaders(t.admin, t.acme);
    const post = (payload: object) =>
      t.app.inject({ method: 'POST', url: url(t.acme.orgId), headers, payload });
    expect((await post({ email: 'member@acme.test', role: 'member' })).statusCode).toBe(409);
    expect((await post({ email: 'not an email', role: 'member' })).statusCode).toBe(400);
    expect((await post({ email: 'x@acme.test', role: 'owner' })).statusCode).toBe(400);
  });

  it('answers 403 to a member adding someone', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: url(t.acme.orgId),
      headers: apiHeaders(t.member, t.acme),
      payload: { email: 'x@acme.test', role: 'admin' },
    });
    expect(response.statusCode).toBe(403);
  });
});
