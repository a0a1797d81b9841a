import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiHeaders, createTestApp, login, type TestApp } from './harness.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('GET /api/v1/orgs/{orgId}/audit', () => {
  const auditUrl = (orgId: string, query = '') => `/api/v1/orgs/${orgId}/audit${query}`;

  it('pages newest first: nextBefore leads to older entries until null', async () => {
    for (let i = 0; i < 5; i++) {
      await t.services.credentials.audit({ orgId: t.acme.orgId, actor: 'test', action: `test.step${i}` });
    }
    const headers = apiHeaders(t.admin, t.acme);
    const seen: string[] = [];
    let before: number | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${before === null ? '' : `&before=${before}`}`;
      const response = await t.app.inject({ url: auditUrl(t.acme.orgId, query), headers });
      expect(response.statusCode).toBe(200);
      const page = response.json() as {
        entries: { id: number; action: string }[];
        nextBefore: number | null;
      };
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((e) => e.action));
      before = page.nextBefore;
      pages++;
    } while (before !== null && pages < 20);
    expect(seen.slice(0, 5)).toEqual(['test.step4', 'test.step3', 'test.step2', 'test.step1', 'test.step0']);
    expect(seen).toContain('org.created');
    expect(seen.indexOf('org.created')).toBeGreaterThan(seen.indexOf('user.added'));
  });

  it('shows only its own organization: no entry of another organization appears', async () => {
    await t.services.credentials.audit({ orgId: t.other.orgId, actor: 'test', action: 'other.secret' });
    const response = await t.app.inject({
      url: auditUrl(t.acme.orgId, '?limit=500'),
      headers: apiHeaders(t.admin, t.acme),
    });
    expect(response.json().entries.every((e: { orgId: string }) => e.orgId === t.acme.orgId)).toBe(true);
  });

  it('records rotations, key views and failed access of the organization', async () => {
    const session = await login(t.app, t.admin);
    await t.app.inject({ url: `/api/v1/orgs/${t.acme.orgId}/keys`, headers: { cookie: session.cookie } });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${t.acme.orgId}/keys/api-key/rotate`,
      headers: session.headers,
      payload: { graceSeconds: 0 },
    });
    await t.app.inject({
      url: '/api/v1/orgs',
      headers: { ...apiHeaders(t.admin, t.acme), authorization: 'garbage' },
    });
    const response = await t.app.inject({
      url: auditUrl(t.acme.orgId, '?limit=3'),
      headers: { cookie: session.cookie },
    });
    expect(response.json().entries.map((e: { action: string }) => e.action)).toEqual([
      'auth.failed',
      'key.rotated',
      'key.viewed',
    ]);
  });

  it('answers 403 for a member and 404 for another organization', async () => {
    expect(
      (await t.app.inject({ url: auditUrl(t.acme.orgId), headers: apiHeaders(t.member, t.acme) })).statusCode,
    ).toBe(403);
    expect(
      (await t.app.inject({ url: auditUrl(t.other.orgId), headers: apiHeaders(t.admin, t.acme) })).statusCode,
    ).toBe(404);
  });

  it('answers 400 for a limit out of range or a before that is not a number', async () => {
    const headers = apiHeaders(t.admin, t.acme);
    for (const query of ['?limit=0', '?limit=501', '?before=abc', '?before=0']) {
      const response = await t.app.inject({ url: auditUrl(t.acme.orgId, query), headers });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe('BAD_REQUEST');
    }
  });
});
