import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { agentHeaders, apiHeaders, b64, createTestApp, type TestApp } from './harness.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const API_401 = {
  error: 'UNAUTHENTICATED',
  message:
    'authentication failed: expected a session cookie, or Authorization (e-mail and personal service key) with the organization API key in API-Key',
};
const AGENT_401 = {
  error: 'UNAUTHENTICATED',
  message:
    'authentication failed: expected valid agent credentials in Authorization and the organization API key in API-Key',
};

describe('API header authentication on /api/v1/*', () => {
  it('accepts a personal service key with the organization API key', async () => {
    const response = await t.app.inject({ url: '/api/v1/orgs', headers: apiHeaders(t.member, t.acme) });
    expect(response.statusCode).toBe(200);
    expect(response.json().orgs).toMatchObject([{ orgId: t.acme.orgId, role: 'member' }]);
  });

  it('accepts the Basic scheme as curl -u sends it', async () => {
    const headers = apiHeaders(t.member, t.acme);
    const response = await t.app.inject({
      url: '/api/v1/orgs',
      headers: { ...headers, authorization: `Basic ${headers.authorization}` },
    });
    expect(response.statusCode).toBe(200);
  });

  it('needs no CSRF token for a state change', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${t.acme.orgId}/keys/api-key/rotate`,
      headers: apiHeaders(t.admin, t.acme),
      payload: { graceSeconds: 60 },
    });
    expect(response.statusCode).toBe(200);
  });

  it("answers 401 with the uniform message for another organization's API key", async () => {
    const response = await t.app.inject({ url: '/api/v1/orgs', headers: apiHeaders(t.member, t.other) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(API_401);
  });

  it('answers 401 with the uniform message for a wrong personal key, a missing API key or a typo', async () => {
    const good = apiHeaders(t.member, t.acme);
    const typo = `${t.acme.apiKey.slice(0, -1)}${t.acme.apiKey.endsWith('A') ? 'B' : 'A'}`;
    const variants: Record<string, string>[] = [
      { ...good, authorization: b64(`${t.member.email}:${t.admin.serviceKey}`) },
      { authorization: good.authorization as string },
      { ...good, 'api-key': typo },
    ];
    for (const headers of variants) {
      const response = await t.app.inject({ url: '/api/v1/orgs', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual(API_401);
    }
  });

  it('refuses agent credentials on /api with 401', async () => {
    const response = await t.app.inject({ url: '/api/v1/orgs', headers: agentHeaders(t.acme) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(API_401);
  });

  it('answers 401, never 500, for malformed headers', async () => {
    const malformed = [
      { authorization: 'not base64 !!!', 'api-key': t.acme.apiKey },
      { authorization: b64('no-colon-here'), 'api-key': t.acme.apiKey },
      { authorization: '', 'api-key': '' },
      { authorization: 'A'.repeat(100_000), 'api-key': t.acme.apiKey },
      { authorization: b64(':'), 'api-key': 'apo_' },
      { authorization: b64('\u0000:\u0000'), 'api-key': '\u00ff'.repeat(50) },
    ];
    for (const headers of malformed) {
      const response = await t.app.inject({ url: '/api/v1/orgs', headers });
      expect(response.statusCode).toBe(401);
    }
  });

  it('answers 401 without credentials on a route that needs them', async () => {
    const response = await t.app.inject({ url: '/api/v1/orgs' });
    expect(response.statusCode).toBe(401);
  });
});

describe('POST /agents/v1/handshake', () => {
  it('answers 200 with the organization id for valid agent credentials and API key', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      headers: agentHeaders(t.acme),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ orgId: t.acme.orgId });
  });

  it("answers 401 with the uniform message when the API key is another organization's", async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      headers: { ...agentHeaders(t.acme), 'api-key': t.other.apiKey },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(AGENT_401);
  });

  it('answers the same 401 for a missing API key, no headers and a wrong service key', async () => {
    const headers = agentHeaders(t.acme);
    const variants: Record<string, string>[] = [
      { authorization: headers.authorization as string },
      {},
      { ...headers, authorization: b64(`${t.acme.agent.userName}:${t.other.agent.serviceKey}`) },
    ];
    for (const variant of variants) {
      const response = await t.app.inject({ method: 'POST', url: '/agents/v1/handshake', headers: variant });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual(AGENT_401);
    }
  });

  it('refuses personal API credentials with 401', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      headers: apiHeaders(t.admin, t.acme),
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual(AGENT_401);
  });

  it('refuses a session cookie with 401', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: t.admin.email, password: t.admin.password },
    });
    const cookie = login.cookies.find((c) => c.name === 'agentpack_session');
    const response = await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      headers: { cookie: `agentpack_session=${cookie?.value}` },
    });
    expect(response.statusCode).toBe(401);
  });

  it('answers 401, never 500, for malformed agent headers', async () => {
    for (const authorization of [
      '%%%',
      b64('agent_x@y'),
      b64('agent_not-a-uuid@acme:aps_x'),
      'B'.repeat(5000),
    ]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/agents/v1/handshake',
        headers: { authorization, 'api-key': t.acme.apiKey },
      });
      expect(response.statusCode).toBe(401);
    }
  });
});

describe('GET /agents/v1/auth (gateway check)', () => {
  it('answers 204 with X-Agentpack-Org-Id for valid agent credentials, on every method and sub-path a gateway uses', async () => {
    for (const [method, url] of [
      ['GET', '/agents/v1/auth'],
      ['HEAD', '/agents/v1/auth'],
      ['POST', '/agents/v1/auth'],
      ['POST', '/agents/v1/auth/v1/traces'],
    ] as const) {
      const response = await t.app.inject({ method, url, headers: agentHeaders(t.acme) });
      expect(response.statusCode, `${method} ${url}`).toBe(204);
      expect(response.headers['x-agentpack-org-id']).toBe(t.acme.orgId);
      expect(response.body).toBe('');
    }
  });

  it("answers 401 for another organization's API key, personal credentials and no credentials", async () => {
    for (const headers of [
      { ...agentHeaders(t.acme), 'api-key': t.other.apiKey },
      apiHeaders(t.admin, t.acme),
      {},
    ]) {
      const response = await t.app.inject({ url: '/agents/v1/auth', headers });
      expect(response.statusCode).toBe(401);
      expect(response.headers['x-agentpack-org-id']).toBeUndefined();
      expect(response.json()).toEqual(AGENT_401);
    }
  });

  it('keeps a rotated key working through its grace period, then answers 401', async () => {
    const old = agentHeaders(t.acme);
    await t.services.credentials.rotateKey(t.acme.orgId, 'api-key', 60, 'test');
    expect((await t.app.inject({ url: '/agents/v1/auth', headers: old })).statusCode).toBe(204);
    t.clock += 61_000;
    expect((await t.app.inject({ url: '/agents/v1/auth', headers: old })).statusCode).toBe(401);
  });
});

describe('failed authentications', () => {
  it('are audited with the organization whose API key was presented, with key ids only', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      headers: {
        ...agentHeaders(t.acme),
        authorization: b64(`${t.acme.agent.userName}:${t.other.agent.serviceKey}`),
      },
    });
    const { entries } = await t.services.credentials.listAudit(t.acme.orgId, { limit: 1 });
    expect(entries[0]).toMatchObject({
      action: 'auth.failed',
      actor: 'ip:127.0.0.1',
      keyId: t.acme.apiKey.slice(0, 16),
      detail: { kind: 'agent', route: '/agents/v1/handshake' },
    });
    expect(JSON.stringify(entries)).not.toContain(t.acme.apiKey);
    expect(JSON.stringify(entries)).not.toContain(t.other.agent.serviceKey);
  });

  it('are counted in auth_failures_total by kind', async () => {
    await t.app.inject({ method: 'POST', url: '/agents/v1/handshake' });
    await t.app.inject({ url: '/api/v1/orgs', headers: apiHeaders(t.member, t.other) });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'x@y.z', password: 'wrong password' },
    });
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('agentpack_auth_failures_total{kind="agent"} 1');
    expect(metrics).toContain('agentpack_auth_failures_total{kind="personal"} 1');
    expect(metrics).toContain('agentpack_auth_failures_total{kind="password"} 1');
  });

  it('answer 429 to failing keys from a client over its limit, while valid keys from it still pass', async () => {
    const limited = await createTestApp({
      env: { AGENTPACK_AUTH_FAILURES_PER_CLIENT: '3', AGENTPACK_AUTH_FAILURE_WINDOW_SECONDS: '60' },
    });
    try {
      const handshake = (headers: Record<string, string>) =>
        limited.app.inject({ method: 'POST', url: '/agents/v1/handshake', headers });
      const bad = { ...agentHeaders(limited.acme), 'api-key': limited.other.apiKey };
      for (let i = 0; i < 3; i++) expect((await handshake(bad)).statusCode).toBe(401);
      const blocked = await handshake(bad);
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().error).toBe('RATE_LIMITED');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // One misconfigured job behind a shared address never locks out the rest of the fleet.
      expect((await handshake(agentHeaders(limited.acme))).statusCode).toBe(200);
      expect((await handshake(agentHeaders(limited.other))).statusCode).toBe(200);
      const login = await limited.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: limited.admin.email, password: limited.admin.password },
      });
      expect(login.statusCode).toBe(429);
      expect((await limited.app.inject({ url: '/healthz' })).statusCode).toBe(200);
      limited.clock += 60_000;
      expect((await handshake(bad)).statusCode).toBe(401);
    } finally {
      await limited.close();
    }
  });

  it('lock out one account after its wrong passwords, not the others nor the agents on that client', async () => {
    const limited = await createTestApp({
      env: { AGENTPACK_AUTH_FAILURES_PER_ACCOUNT: '2', AGENTPACK_AUTH_FAILURES_PER_CLIENT: '5' },
    });
    try {
      const attempt = (email: string, password: string) =>
        limited.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password } });
      expect((await attempt(limited.admin.email, 'wrong password 1')).statusCode).toBe(401);
      expect((await attempt(limited.admin.email, 'wrong password 2')).statusCode).toBe(401);
      const locked = await attempt(limited.admin.email, limited.admin.password);
      expect(locked.statusCode).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      // Hammering the locked account is refused before any password work, and without counting
      // against the client.
      const checks = vi.spyOn(limited.services.credentials, 'verifyPassword');
      for (let i = 0; i < 10; i++)
        expect((await attempt(` ${limited.admin.email.toUpperCase()}`, 'wrong')).statusCode).toBe(429);
      expect(checks).not.toHaveBeenCalled();
      expect((await attempt(limited.member.email, limited.member.password)).statusCode).toBe(200);
      const agent = await limited.app.inject({
        method: 'POST',
        url: '/agents/v1/handshake',
        headers: agentHeaders(limited.acme),
      });
      expect(agent.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
