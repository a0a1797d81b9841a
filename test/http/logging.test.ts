import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/http/logging.js';
import { agentHeaders, apiHeaders, b64, createTestApp, login, type TestApp } from './harness.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('JSON logs', () => {
  it('never hold a credential header, a cookie, a CSRF token, a password, a key or a link token', async () => {
    const session = await login(t.app, t.admin);
    const api = apiHeaders(t.member, t.acme);
    const agent = agentHeaders(t.acme);
    const token = `l1.${b64('["org","bundle","jar",1]')}.signature-part-of-the-token`;
    await t.app.inject({ url: '/api/v1/orgs', headers: api });
    await t.app.inject({ url: `/api/v1/orgs/${t.acme.orgId}/keys`, headers: { cookie: session.cookie } });
    await t.app.inject({ method: 'POST', url: '/agents/v1/handshake', headers: agent });
    await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      headers: { ...agent, 'api-key': t.other.apiKey },
    });
    await t.app.inject({
      url: '/api/v1/orgs',
      headers: { ...api, authorization: b64(`${t.member.email}:${t.admin.serviceKey}`) },
    });
    await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie: session.cookie, 'x-csrf-token': 'wrong' },
    });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: t.member.email, password: 'a wrong password' },
    });
    await t.app.inject({ url: `/dl/${token}` });
    await t.app.inject({ url: `/api/v1/orgs?leak=${t.acme.apiKey}` });
    const rotated = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${t.acme.orgId}/keys/agent-service-key/rotate`,
      headers: session.headers,
      payload: { graceSeconds: 60 },
    });
    expect(rotated.statusCode).toBe(200);
    const newKeys = await t.services.credentials.getKeys(t.acme.orgId);

    const log = t.logs.join('');
    expect(log).toContain('"msg":"incoming request"');
    expect(log).toContain('/dl/[redacted]');
    const secrets = [
      t.acme.apiKey,
      t.other.apiKey,
      t.acme.agent.serviceKey,
      newKeys.agent.serviceKey,
      t.admin.serviceKey,
      t.member.serviceKey,
      t.admin.password,
      'a wrong password',
      session.cookie.split('=')[1] as string,
      session.csrfToken,
      api.authorization as string,
      agent.authorization as string,
      token,
      'signature-part-of-the-token',
    ];
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/ap[osu]_[0-9A-Za-z]{12}_[0-9A-Za-z]{30}/);
    expect(log.toLowerCase()).not.toMatch(/"(authorization|api-key|cookie|set-cookie|x-csrf-token)":"[^[]/);
  });

  it('censor credential headers when a log line carries them', async () => {
    const headers = {
      authorization: 'Basic c2VjcmV0',
      'api-key': t.acme.apiKey,
      cookie: 'agentpack_session=x',
    };
    t.app.log.info({ req: { url: '/dl/tok', headers } }, 'probe-req');
    t.app.log.info({ headers }, 'probe-headers');
    const req = t.logs.find((l) => l.includes('"probe-req"')) ?? '';
    const bare = t.logs.find((l) => l.includes('"probe-headers"')) ?? '';
    expect(req).toContain('"url":"/dl/[redacted]"');
    expect(bare).toContain('"authorization":"[redacted]"');
    expect(bare).toContain('"api-key":"[redacted]"');
    for (const line of [req, bare]) {
      expect(line).not.toContain(t.acme.apiKey);
      expect(line).not.toContain('c2VjcmV0');
      expect(line).not.toContain('agentpack_session=x');
    }
  });
});

describe('redactUrl', () => {
  it('hides a link token and any key-shaped text, keeping the rest', () => {
    expect(redactUrl('/dl/l1.abc.def?download=1')).toBe('/dl/[redacted]?download=1');
    expect(redactUrl(`/api/v1/x?k=${'apo_'}AAAAAAAAAAAA_${'B'.repeat(30)}`)).toBe(
      '/api/v1/x?k=[redacted-key]',
    );
    expect(redactUrl('/api/v1/orgs')).toBe('/api/v1/orgs');
  });
});
