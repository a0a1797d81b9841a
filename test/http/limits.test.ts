import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { clientKey } from '../../src/http/client.js';
import { agentHeaders, apiHeaders, b64, createTestApp, type TestApp } from './harness.js';

const bundleUrl = (orgId: string) => `/api/v1/orgs/${orgId}/agents/java/latest/bundle`;
const linksUrl = (orgId: string) => `/api/v1/orgs/${orgId}/agents/java/latest/links`;

async function failedAudit(t: TestApp, orgId: string | null) {
  const { entries } = await t.services.credentials.listAudit(orgId, { limit: 100 });
  return entries.filter((entry) => entry.action === 'auth.failed');
}

async function downloads(t: TestApp): Promise<number> {
  const { entries } = await t.services.credentials.listAudit(t.acme.orgId, { limit: 100 });
  return entries.filter((entry) => entry.action === 'bundle.downloaded').length;
}

describe('clientKey', () => {
  it('counts an IPv6 client as its /64 and a mapped IPv4 address as IPv4', () => {
    expect(clientKey('2001:db8:1:2::5')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
  });
});

describe('AGENTPACK_TRUST_PROXY', () => {
  const parse = (value: string) => loadConfig({ AGENTPACK_TRUST_PROXY: value }, '/tmp').trustProxy;

  it('takes false, a hop count (true is one hop) or proxy addresses and CIDRs', () => {
    expect(loadConfig({}, '/tmp').trustProxy).toBe(false);
    expect(parse('false')).toBe(false);
    expect(parse('true')).toBe(1);
    expect(parse('2')).toBe(2);
    expect(parse('10.0.0.0/8, 192.0.2.1,2001:db8::/32,loopback')).toEqual([
      '10.0.0.0/8',
      '192.0.2.1',
      '2001:db8::/32',
      'loopback',
    ]);
  });

  it('stops the process at boot on anything else', () => {
    expect(() => parse('10.0.0.0/33')).toThrow(/AGENTPACK_TRUST_PROXY .*'10.0.0.0\/33'/);
    expect(() => parse('proxy.example')).toThrow(/AGENTPACK_TRUST_PROXY/);
    expect(() => parse('99')).toThrow(/hop count/);
  });

  for (const [value, expected] of [
    ['true', '203.0.113.9'],
    ['10.0.0.0/8', '203.0.113.9'],
    ['10.0.0.0/8,203.0.113.0/24', '198.51.100.4'],
    ['false', '10.1.1.1'],
  ] as const) {
    it(`with ${value}, a client-written X-Forwarded-For entry neither spoofs the audit nor escapes the limit`, async () => {
      const t = await createTestApp({
        env: { AGENTPACK_TRUST_PROXY: value, AGENTPACK_AUTH_FAILURES_PER_CLIENT: '2' },
      });
      try {
        const attempt = (spoof: string) =>
          t.app.inject({
            method: 'POST',
            url: '/agents/v1/handshake',
            remoteAddress: '10.1.1.1',
            headers: { 'x-forwarded-for': `${spoof}, 198.51.100.4, 203.0.113.9` },
          });
        expect((await attempt('1.1.1.1')).statusCode).toBe(401);
        expect((await attempt('2.2.2.2')).statusCode).toBe(401);
        expect((await attempt('3.3.3.3')).statusCode).toBe(429);
        const [row] = await failedAudit(t, null);
        expect(row?.actor).toBe(`ip:${expected}`);
      } finally {
        await t.close();
      }
    });
  }
});

describe('limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        AGENTPACK_AUTH_FAILURES_PER_CLIENT: '3',
        AGENTPACK_AUTH_FAILURE_WINDOW_SECONDS: '60',
        AGENTPACK_RATE_DOWNLOADS: '3',
        AGENTPACK_RATE_LINKS: '6',
        AGENTPACK_RATE_LINK_DOWNLOADS: '5',
        AGENTPACK_SETTINGS_SETS_PER_ORG: '2',
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('count an IPv6 client as its /64', async () => {
    const attempt = (remoteAddress: string) =>
      t.app.inject({ method: 'POST', url: '/agents/v1/handshake', remoteAddress });
    for (const host of ['1', '2', '3']) expect((await attempt(`2001:db8:a:b::${host}`)).statusCode).toBe(401);
    expect((await attempt('2001:db8:a:b:ffff::9')).statusCode).toBe(429);
    expect((await attempt('2001:db8:a:c::1')).statusCode).toBe(401);
  });

  it('keep failed-link audit rows to one a minute per address and reason, and file them under no organization', async () => {
    const remoteAddress = '192.0.2.50';
    const before = (await failedAudit(t, null)).length;
    for (let i = 0; i < 3; i++) {
      const response = await t.app.inject({ url: `/dl/not-a-token-${i}`, remoteAddress });
      expect(response.statusCode).toBe(403);
    }
    // Over the client's failure limit: /dl answers 429 too, on every /dl route.
    const blocked = await t.app.inject({ url: '/dl/not-a-token/bundle.sha256', remoteAddress });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const rows = await failedAudit(t, null);
    expect(rows.length - before).toBe(1);
    t.clock += 61_000;
    await t.app.inject({ url: '/dl/still-not-a-token', remoteAddress });
    const [latest] = await failedAudit(t, null);
    expect(latest?.detail).toMatchObject({ kind: 'link', unrecorded: 3 });
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/agentpack_auth_failures_total\{kind="link"\} [1-9]/);
    expect(metrics).toMatch(/agentpack_rate_limited_total\{limit="auth-client"\} [1-9]/);
  });

  it('never file a failure under an organization named only by the request', async () => {
    const named = b64(`agent_${t.acme.orgId}@acme:aps_nothing`);
    const beforeAcme = (await failedAudit(t, t.acme.orgId)).length;
    await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      remoteAddress: '192.0.2.60',
      headers: { authorization: named, 'api-key': 'apk_forged' },
    });
    expect((await failedAudit(t, t.acme.orgId)).length).toBe(beforeAcme);
    const [row] = await failedAudit(t, null);
    expect(row).toMatchObject({ actor: 'ip:192.0.2.60', detail: { kind: 'agent' } });
  });

  it('limit /dl downloads per address', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: linksUrl(t.acme.orgId),
      headers: apiHeaders(t.admin, t.acme),
      payload: { ttlSeconds: 3600 },
    });
    const path = new URL(created.json().url).pathname;
    const remoteAddress = '192.0.2.70';
    for (let i = 0; i < 5; i++)
      expect((await t.app.inject({ method: 'HEAD', url: path, remoteAddress })).statusCode).toBe(200);
    const limited = await t.app.inject({ method: 'HEAD', url: path, remoteAddress });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await t.app.inject({ method: 'HEAD', url: path, remoteAddress: '192.0.2.71' })).statusCode).toBe(
      200,
    );
  });

  it('limit downloads per credential, not per address: two keys behind one address each get their own', async () => {
    const remoteAddress = '192.0.2.80';
    const get = (headers: Record<string, string>) =>
      t.app.inject({ method: 'HEAD', url: bundleUrl(t.acme.orgId), headers, remoteAddress });
    for (let i = 0; i < 3; i++) expect((await get(apiHeaders(t.member, t.acme))).statusCode).toBe(200);
    expect((await get(apiHeaders(t.member, t.acme))).statusCode).toBe(429);
    expect((await get(apiHeaders(t.admin, t.acme))).statusCode).toBe(200);
    const agent = await t.app.inject({
      method: 'POST',
      url: '/agents/v1/handshake',
      headers: agentHeaders(t.acme),
      remoteAddress,
    });
    expect(agent.statusCode).toBe(200);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/agentpack_rate_limited_total\{limit="downloads"\} 1/);
  });

  it('cap distinct settings per organization, collecting the oldest set first', async () => {
    const link = (host: string) =>
      t.app.inject({
        method: 'POST',
        url: linksUrl(t.other.orgId),
        headers: apiHeaders(t.otherAdmin, t.other),
        payload: { ttlSeconds: 3600, settings: { 'proxy.host': host } },
      });
    const first = await link('one.example');
    t.clock += 1000;
    await link('two.example');
    t.clock += 1000;
    const third = await link('three.example');
    expect(third.statusCode).toBe(201);
    const rows = await t.services.store.listBundles({ orgId: t.other.orgId });
    expect(rows).toHaveLength(2);
    // A valid link whose record went answers 410 Gone, whatever collected it.
    expect((await t.app.inject({ method: 'HEAD', url: new URL(first.json().url).pathname })).statusCode).toBe(
      410,
    );
    expect((await t.app.inject({ method: 'HEAD', url: new URL(third.json().url).pathname })).statusCode).toBe(
      200,
    );
  });

  it('limit link creation per credential', async () => {
    const create = () =>
      t.app.inject({
        method: 'POST',
        url: linksUrl(t.other.orgId),
        headers: apiHeaders(t.otherAdmin, t.other),
        payload: { ttlSeconds: 60 },
      });
    // Three were made by the previous test; the limit is six a minute.
    for (let i = 0; i < 3; i++) expect((await create()).statusCode).toBe(201);
    expect((await create()).statusCode).toBe(429);
  });
});

describe('a download is audited whenever its bytes reach the config entry', () => {
  let t: TestApp;
  let size: number;
  let configOffset: number;
  beforeAll(async () => {
    t = await createTestApp();
    const bundle = await t.services.bundles.service.current({
      orgId: t.acme.orgId,
      kind: 'java',
      version: 'latest',
    });
    size = bundle.row.size;
    configOffset = await t.services.bundles.service.configOffset(bundle);
  });
  afterAll(async () => {
    await t.close();
  });

  const fetchRange = (range: string) =>
    t.app.inject({ url: bundleUrl(t.acme.orgId), headers: { ...apiHeaders(t.member, t.acme), range } });

  for (const range of [
    'Bytes=0-',
    'bytes= 0-',
    'bytes=-999999999',
    'bytes=1-',
    'CONFIG-',
    '-1',
    'CONFIG-CONFIG',
  ]) {
    it(`audits Range '${range}'`, async () => {
      const header = range
        .replace(/^CONFIG-CONFIG$/, `bytes=${configOffset}-${configOffset}`)
        .replace(/^CONFIG-$/, `bytes=${configOffset}-`)
        .replace(/^-1$/, 'bytes=-1');
      const before = await downloads(t);
      const response = await fetchRange(header);
      expect(response.statusCode).toBe(206);
      expect(await downloads(t)).toBe(before + 1);
    });
  }

  it('does not audit a range that stays in the base prefix', async () => {
    const before = await downloads(t);
    const response = await fetchRange(`bytes=0-${configOffset - 1}`);
    expect(response.statusCode).toBe(206);
    expect(response.rawPayload.length).toBe(configOffset);
    expect(configOffset).toBeLessThan(size);
    expect(await downloads(t)).toBe(before);
  });
});
