import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentHeaders, apiHeaders, createTestApp, login, type TestApp } from './harness.js';

const exec = promisify(execFile);

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const keysUrl = (orgId: string) => `/api/v1/orgs/${orgId}/keys`;

describe('GET /api/v1/orgs/{orgId}/keys', () => {
  it("returns the organization's current keys, versions and no pending expiries", async () => {
    const response = await t.app.inject({ url: keysUrl(t.acme.orgId), headers: apiHeaders(t.admin, t.acme) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({
      orgId: t.acme.orgId,
      slug: 'acme',
      apiKey: t.acme.apiKey,
      agent: { userName: t.acme.agent.userName, serviceKey: t.acme.agent.serviceKey },
      versions: { apiKey: 1, agentServiceKey: 1 },
      keyIds: t.acme.keyIds,
      expiries: [],
    });
  });

  it('lets a member see the keys (they hold the API key already) and audits the look', async () => {
    const session = await login(t.app, t.member);
    const response = await t.app.inject({ url: keysUrl(t.acme.orgId), headers: { cookie: session.cookie } });
    expect(response.statusCode).toBe(200);
    const { entries } = await t.services.credentials.listAudit(t.acme.orgId, { limit: 1 });
    expect(entries[0]).toMatchObject({ action: 'key.viewed', actor: `user:${t.member.email}` });
  });

  it("answers 404 for another organization's keys, with a session or API headers", async () => {
    const session = await login(t.app, t.admin);
    const bySession = await t.app.inject({
      url: keysUrl(t.other.orgId),
      headers: { cookie: session.cookie },
    });
    const byApi = await t.app.inject({ url: keysUrl(t.other.orgId), headers: apiHeaders(t.admin, t.acme) });
    for (const response of [bySession, byApi]) {
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: 'NOT_FOUND', message: `no organization ${t.other.orgId}` });
    }
  });

  it('answers the same 404 for an organization that does not exist', async () => {
    const session = await login(t.app, t.admin);
    const missing = '00000000-0000-4000-8000-000000000000';
    const response = await t.app.inject({ url: keysUrl(missing), headers: { cookie: session.cookie } });
    expect(response.statusCode).toBe(404);
    expect(response.json().message).toBe(`no organization ${missing}`);
  });

  it('answers 400 with a message for a malformed organization id', async () => {
    const response = await t.app.inject({ url: keysUrl('acme;drop'), headers: apiHeaders(t.admin, t.acme) });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: 'BAD_REQUEST',
      message: "expected an organization id (a lower-case UUID); found 'acme;drop'",
    });
  });
});

describe('POST /api/v1/orgs/{orgId}/keys/{which}/rotate', () => {
  const rotate = (
    orgId: string,
    which: string,
    headers: Record<string, string>,
    graceSeconds: unknown = 3600,
  ) =>
    t.app.inject({
      method: 'POST',
      url: `${keysUrl(orgId)}/${which}/rotate`,
      headers,
      payload: { graceSeconds },
    });

  it('answers 403 for a member', async () => {
    const response = await rotate(t.acme.orgId, 'api-key', apiHeaders(t.member, t.acme));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({
      error: 'FORBIDDEN',
      message: `this needs the admin role in organization ${t.acme.orgId}; you are a member`,
    });
  });

  it('answers 404 to the admin of another organization', async () => {
    const session = await login(t.app, t.otherAdmin);
    const response = await rotate(t.acme.orgId, 'api-key', session.headers);
    expect(response.statusCode).toBe(404);
  });

  it('answers 400 for an unknown key name, a negative or a too long grace period', async () => {
    const headers = apiHeaders(t.admin, t.acme);
    for (const [which, grace] of [
      ['master-key', 60],
      ['api-key', -1],
      ['api-key', 31 * 86400],
      ['api-key', 'soon'],
    ] as const) {
      const response = await rotate(t.acme.orgId, which, headers, grace);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe('BAD_REQUEST');
    }
    expect((await rotate(t.acme.orgId, 'api-key', headers, 31 * 86400)).json().message).toBe(
      'body/graceSeconds must be <= 2592000',
    );
  });

  it('keeps the old API key valid during the grace period and refuses it after (API rotation)', async () => {
    const rotated = await rotate(t.acme.orgId, 'api-key', apiHeaders(t.admin, t.acme), 3600);
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json();
    expect(body).toMatchObject({
      orgId: t.acme.orgId,
      which: 'api-key',
      version: 2,
      previous: {
        version: 1,
        keyId: t.acme.keyIds.apiKey,
        expiresAt: new Date(t.clock + 3600_000).toISOString(),
      },
      ended: [],
    });
    expect(JSON.stringify(body)).not.toMatch(/apo_[0-9A-Za-z]{12}_/);

    const keys = (
      await t.app.inject({ url: keysUrl(t.acme.orgId), headers: apiHeaders(t.admin, t.acme) })
    ).json();
    expect(keys.apiKey).not.toBe(t.acme.apiKey);
    expect(keys.versions.apiKey).toBe(2);
    expect(keys.expiries).toEqual([
      { which: 'api-key', version: 1, keyId: t.acme.keyIds.apiKey, expiresAt: body.previous.expiresAt },
    ]);

    const handshake = (apiKey: string) =>
      t.app.inject({
        method: 'POST',
        url: '/agents/v1/handshake',
        headers: { ...agentHeaders(t.acme), 'api-key': apiKey },
      });
    t.clock += 3600_000 - 1;
    expect((await handshake(t.acme.apiKey)).statusCode).toBe(200);
    expect((await handshake(keys.apiKey)).statusCode).toBe(200);
    t.clock += 1;
    expect((await handshake(t.acme.apiKey)).statusCode).toBe(401);
    expect((await handshake(keys.apiKey)).statusCode).toBe(200);
  });

  it('rotates by session with the CSRF token, and is audited as key.rotated', async () => {
    const session = await login(t.app, t.admin);
    const response = await rotate(t.acme.orgId, 'agent-service-key', session.headers, 0);
    expect(response.statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: 'POST', url: '/agents/v1/handshake', headers: agentHeaders(t.acme) }))
        .statusCode,
    ).toBe(401);
    const { entries } = await t.services.credentials.listAudit(t.acme.orgId, { limit: 5 });
    expect(entries.map((e) => e.action)).toContain('key.rotated');
    expect(entries.find((e) => e.action === 'key.rotated')?.actor).toBe(`user:${t.admin.email}`);
  });

  it('answers 403 to a session without the CSRF token and changes nothing', async () => {
    const session = await login(t.app, t.admin);
    const response = await rotate(t.acme.orgId, 'api-key', { cookie: session.cookie });
    expect(response.statusCode).toBe(403);
    const keys = await t.services.credentials.getKeys(t.acme.orgId);
    expect(keys.versions.apiKey).toBe(1);
  });
});

describe('POST /api/v1/orgs/{orgId}/keys/{which}/end-grace', () => {
  it('ends a running grace period at once, and answers 409 when none is running', async () => {
    const headers = apiHeaders(t.admin, t.acme);
    const endGrace = () =>
      t.app.inject({ method: 'POST', url: `${keysUrl(t.acme.orgId)}/agent-service-key/end-grace`, headers });
    expect((await endGrace()).statusCode).toBe(409);
    await t.app.inject({
      method: 'POST',
      url: `${keysUrl(t.acme.orgId)}/agent-service-key/rotate`,
      headers,
      payload: { graceSeconds: 86400 },
    });
    expect(
      (await t.app.inject({ method: 'POST', url: '/agents/v1/handshake', headers: agentHeaders(t.acme) }))
        .statusCode,
    ).toBe(200);
    const ended = await endGrace();
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toEqual({
      orgId: t.acme.orgId,
      which: 'agent-service-key',
      ended: [{ version: 1, keyId: t.acme.keyIds.agentServiceKey }],
    });
    expect(
      (await t.app.inject({ method: 'POST', url: '/agents/v1/handshake', headers: agentHeaders(t.acme) }))
        .statusCode,
    ).toBe(401);
  });

  it('answers 403 for a member', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: `${keysUrl(t.acme.orgId)}/api-key/end-grace`,
      headers: apiHeaders(t.member, t.acme),
    });
    expect(response.statusCode).toBe(403);
  });
});

describe('GET /api/v1/orgs/{orgId}/keys/sample-request', () => {
  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise((resolve) => server.close(resolve));
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  /** The printed command, run by a real shell and curl against a listening server. */
  async function runPrinted(headers: (s: TestApp) => Promise<Record<string, string>>) {
    const port = await freePort();
    const live = await createTestApp({ env: { PORT: String(port), HOST: '127.0.0.1' } });
    try {
      await live.app.listen({ host: '127.0.0.1', port });
      const response = await live.app.inject({
        url: `/api/v1/orgs/${live.acme.orgId}/keys/sample-request`,
        headers: await headers(live),
      });
      expect(response.statusCode).toBe(200);
      const sample = response.json();
      expect(sample.url).toBe(`http://127.0.0.1:${port}/api/v1/orgs/${live.acme.orgId}/keys`);
      expect(sample.command).toMatch(/^curl -fsS /);
      const { stdout } = await exec('sh', ['-c', sample.command]);
      return {
        sample,
        result: JSON.parse(stdout),
        live: { orgId: live.acme.orgId, apiKey: live.acme.apiKey },
      };
    } finally {
      await live.close();
    }
  }

  it("prints a curl command with an API caller's own headers that works as printed", async () => {
    const { sample, result, live } = await runPrinted(async (s) => apiHeaders(s.member, s.acme));
    expect(sample.runnable).toBe(true);
    expect(result).toMatchObject({ orgId: live.orgId, apiKey: live.apiKey });
  });

  it("prints a curl command with a signed-in user's personal service key that works as printed", async () => {
    const { sample, result, live } = await runPrinted(async (s) => ({
      cookie: (await login(s.app, s.admin)).cookie,
    }));
    expect(sample.runnable).toBe(true);
    expect(sample.command).toContain(' -u admin@acme.test:apu_');
    expect(result.orgId).toBe(live.orgId);
  });

  it('marks a placeholder clearly when the personal key cannot be used, and says so', async () => {
    const { credentials } = t.services;
    const keyless = await credentials.addUser(
      { email: 'keyless@acme.test', orgId: t.acme.orgId, role: 'member', password: 'keyless password' },
      'test',
    );
    // Expire the user's only personal key so no valid one remains.
    const [row] = await t.services.store.listKeyVersions(keyless.userId, 'personal-service-key');
    await t.services.store.setKeyExpiry(row?.keyId ?? '', t.clock - 1);
    const session = await login(t.app, { ...keyless, password: 'keyless password', serviceKey: '' });
    const response = await t.app.inject({
      url: `/api/v1/orgs/${t.acme.orgId}/keys/sample-request`,
      headers: { cookie: session.cookie },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().runnable).toBe(false);
    expect(response.json().command).toContain('<YOUR-PERSONAL-SERVICE-KEY>');
    expect(response.json().note).toMatch(/Replace <YOUR-PERSONAL-SERVICE-KEY>/);
  });

  it("answers 404 for another organization's sample", async () => {
    const response = await t.app.inject({
      url: `/api/v1/orgs/${t.other.orgId}/keys/sample-request`,
      headers: apiHeaders(t.member, t.acme),
    });
    expect(response.statusCode).toBe(404);
  });
});
