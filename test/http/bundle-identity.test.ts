import { createHash, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleLayer } from '../../src/bundles/layer.js';
import { verifyStatement } from '../../src/bundles/signature.js';
import { parseLinkHeader } from '../../src/client/urls.js';
import { apiHeaders, createTestApp, type TestApp } from './harness.js';

/**
 * Every bundle response names the identity of the bytes it carries, and the statement and
 * signature of that identity stay where the response said while keys rotate: a client that
 * downloads first and verifies after never compares a bundle with another bundle's statement.
 */

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  await t.close();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const bundlePath = (orgId: string) => `/api/v1/orgs/${orgId}/agents/java/latest/bundle`;

/** A fresh organization, so its rotations disturb no other test, and a member's API headers. */
async function organization(name: string) {
  const org = await t.services.credentials.createOrganization(name, { actor: 'test' });
  const email = `member@${org.slug}.test`;
  const added = await t.services.credentials.addUser({ email, orgId: org.orgId, role: 'member' }, 'test');
  const headers = apiHeaders(
    { userId: added.userId, email, password: '', serviceKey: added.serviceKey ?? '' },
    org,
  );
  return { org, headers };
}

/** The statement and signature a response's Link header names, resolved against the request path. */
function companions(link: string | string[] | number | undefined, requestPath: string) {
  const base = new URL(requestPath, 'http://agentpack.test');
  const links = parseLinkHeader(String(link), base);
  const statement = links.get('agentpack-statement');
  const signature = links.get('agentpack-signature');
  if (statement === undefined || signature === undefined) throw new Error(`no companions in ${String(link)}`);
  return { statement: statement.pathname, signature: signature.pathname };
}

async function signatureVerifies(statement: Buffer, signature: Buffer): Promise<boolean> {
  const keyId = /^# key-id: (\S+)$/m.exec(statement.toString('utf8'))?.[1] ?? '';
  const pem = await t.app.inject({ url: `/.well-known/agentpack/signing-keys/${keyId}.pem` });
  return verifyStatement(statement, signature, createPublicKey(pem.body));
}

describe('GET .../bundle names the identity of the bytes it serves', () => {
  it('points Link and X-Agentpack-Bundle-Id at their statement and signature, which a rotation does not move', async () => {
    const { org, headers } = await organization('Identity');
    const path = bundlePath(org.orgId);
    const bundle = await t.app.inject({ method: 'GET', url: path, headers });
    expect(bundle.statusCode).toBe(200);
    const id = bundle.headers['x-agentpack-bundle-id'];
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const named = companions(bundle.headers.link, path);
    expect(named).toEqual({
      statement: `/api/v1/orgs/${org.orgId}/bundles/${id}/bundle.sha256`,
      signature: `/api/v1/orgs/${org.orgId}/bundles/${id}/bundle.sig`,
    });

    await t.services.credentials.rotateKey(org.orgId, 'agent-service-key', 3600, 'test');
    const current = await t.app.inject({ method: 'GET', url: `${path}.sha256`, headers });
    expect(current.body.slice(0, 64)).not.toBe(sha256(bundle.rawPayload));

    const statement = await t.app.inject({ method: 'GET', url: named.statement, headers });
    const signature = await t.app.inject({ method: 'GET', url: named.signature, headers });
    expect(statement.statusCode).toBe(200);
    expect(statement.body.slice(0, 64)).toBe(sha256(bundle.rawPayload));
    expect(statement.headers['x-agentpack-bundle-id']).toBe(id);
    expect(await signatureVerifies(statement.rawPayload, signature.rawPayload)).toBe(true);
  });

  it('names the identity on HEAD and on 304 too', async () => {
    const headers = apiHeaders(t.member, t.acme);
    const path = bundlePath(t.acme.orgId);
    const head = await t.app.inject({ method: 'HEAD', url: path, headers });
    const id = head.headers['x-agentpack-bundle-id'];
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const cached = await t.app.inject({
      method: 'GET',
      url: path,
      headers: { ...headers, 'if-none-match': String(head.headers.etag) },
    });
    expect(cached.statusCode).toBe(304);
    expect(cached.headers['x-agentpack-bundle-id']).toBe(id);
    expect(companions(cached.headers.link, path).statement).toBe(
      `/api/v1/orgs/${t.acme.orgId}/bundles/${id}/bundle.sha256`,
    );
  });

  it('gives the current statement the identity too, so its signature is fetched by identity', async () => {
    const { org, headers } = await organization('Statement first');
    const path = `${bundlePath(org.orgId)}.sha256`;
    const statement = await t.app.inject({ method: 'GET', url: path, headers });
    const id = statement.headers['x-agentpack-bundle-id'];
    const named = companions(statement.headers.link, path);
    expect(named.signature).toBe(`/api/v1/orgs/${org.orgId}/bundles/${id}/bundle.sig`);
    await t.services.credentials.rotateKey(org.orgId, 'agent-service-key', 3600, 'test');
    const signature = await t.app.inject({ method: 'GET', url: named.signature, headers });
    expect(await signatureVerifies(statement.rawPayload, signature.rawPayload)).toBe(true);
  });
});

describe('GET /api/v1/orgs/{orgId}/bundles/{bundleId}/bundle.sha256 and .sig', () => {
  it('answers 404 to another organization, as for an identity that does not exist, and 400 to a malformed one', async () => {
    const bundle = await t.app.inject({
      method: 'HEAD',
      url: bundlePath(t.acme.orgId),
      headers: apiHeaders(t.member, t.acme),
    });
    const id = String(bundle.headers['x-agentpack-bundle-id']);
    const { org, headers } = await organization('Elsewhere');
    for (const url of [
      `/api/v1/orgs/${org.orgId}/bundles/${id}/bundle.sha256`,
      `/api/v1/orgs/${org.orgId}/bundles/${id}/bundle.sig`,
      `/api/v1/orgs/${org.orgId}/bundles/${'0'.repeat(64)}/bundle.sha256`,
    ])
      expect((await t.app.inject({ method: 'GET', url, headers })).statusCode).toBe(404);
    const theirs = await t.app.inject({
      method: 'GET',
      url: `/api/v1/orgs/${t.acme.orgId}/bundles/${id}/bundle.sha256`,
      headers,
    });
    expect(theirs.statusCode).toBe(404);
    const malformed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/orgs/${org.orgId}/bundles/..%2F..%2Fetc/bundle.sha256`,
      headers,
    });
    expect(malformed.statusCode).toBe(400);
  });

  it('answers 410 once the keys the bundle embeds have expired', async () => {
    const { org, headers } = await organization('Expiring');
    const bundle = await t.app.inject({ method: 'HEAD', url: bundlePath(org.orgId), headers });
    const url = `/api/v1/orgs/${org.orgId}/bundles/${bundle.headers['x-agentpack-bundle-id']}/bundle.sha256`;
    await t.services.credentials.rotateKey(org.orgId, 'agent-service-key', 60, 'test');
    expect((await t.app.inject({ method: 'GET', url, headers })).statusCode).toBe(200);
    t.clock += 61_000;
    const gone = await t.app.inject({ method: 'GET', url, headers });
    expect(gone.statusCode).toBe(410);
    expect(gone.json().message).toMatch(/expired/);
  });
});

describe('POST .../links names the statement and signature of the bundle the link serves', () => {
  it('answers bundleId, statementUrl and signatureUrl, which keep naming that bundle after a rotation', async () => {
    const { org, headers } = await organization('Linked');
    const created = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${org.orgId}/agents/java/latest/links`,
      headers,
      payload: { ttlSeconds: 3600 },
    });
    expect(created.statusCode).toBe(201);
    const link = created.json() as {
      url: string;
      sha256: string;
      bundleId: string;
      statementUrl: string;
      signatureUrl: string;
    };
    expect(link.bundleId).toMatch(/^[0-9a-f]{64}$/);
    expect(link.statementUrl).toBe(`${link.url}/bundle.sha256`);
    expect(link.signatureUrl).toBe(`${link.url}/bundle.sig`);
    await t.services.credentials.rotateKey(org.orgId, 'agent-service-key', 3600, 'test');
    const served = await t.app.inject({ method: 'GET', url: new URL(link.url).pathname });
    expect(served.headers['x-agentpack-bundle-id']).toBe(link.bundleId);
    const statement = await t.app.inject({ method: 'GET', url: new URL(link.statementUrl).pathname });
    const signature = await t.app.inject({ method: 'GET', url: new URL(link.signatureUrl).pathname });
    expect(statement.body.slice(0, 64)).toBe(sha256(served.rawPayload));
    expect(statement.body.slice(0, 64)).toBe(link.sha256);
    expect(await signatureVerifies(statement.rawPayload, signature.rawPayload)).toBe(true);
  });

  it('gives no statement URL for the zip and config formats, whose bytes it does not sign', async () => {
    for (const format of ['zip', 'config']) {
      const created = await t.app.inject({
        method: 'POST',
        url: `/api/v1/orgs/${t.acme.orgId}/agents/java/latest/links`,
        headers: apiHeaders(t.member, t.acme),
        payload: { ttlSeconds: 60, format },
      });
      expect(created.json()).not.toHaveProperty('statementUrl');
      expect(created.json()).not.toHaveProperty('signatureUrl');
    }
  });
});

describe('GET /dl/{token} once the keys behind it expired', () => {
  it('answers 410 for as long as the token is valid, before and after the record is collected', async () => {
    const { org, headers } = await organization('Collected');
    const created = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${org.orgId}/agents/java/latest/links`,
      headers,
      payload: { ttlSeconds: 7 * 24 * 3600 },
    });
    const path = new URL((created.json() as { url: string }).url).pathname;
    await t.services.credentials.rotateKey(org.orgId, 'agent-service-key', 0, 'test');
    const layer = t.services.bundles as BundleLayer;
    for (const stage of ['expired', 'collected']) {
      if (stage === 'collected') expect(await layer.service.collect({ orgId: org.orgId })).toBeGreaterThan(0);
      for (const url of [path, `${path}/bundle.sha256`, `${path}/bundle.sig`]) {
        const response = await t.app.inject({ method: 'GET', url });
        expect({ stage, url: url.slice(-7), status: response.statusCode }).toEqual({
          stage,
          url: url.slice(-7),
          status: 410,
        });
        expect(response.json().message).toMatch(/expired/);
      }
    }
    t.clock += 7 * 24 * 3600_000;
    expect((await t.app.inject({ method: 'GET', url: path })).statusCode).toBe(403);
    t.clock -= 7 * 24 * 3600_000;
  });
});

describe('the OpenAPI document', () => {
  it('lists the statement and signature by identity and the links answer with its new fields', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/orgs/{orgId}/bundles/{bundleId}/bundle.sha256',
        '/api/v1/orgs/{orgId}/bundles/{bundleId}/bundle.sig',
      ]),
    );
    const links = doc.paths['/api/v1/orgs/{orgId}/agents/{kind}/{version}/links'].post;
    const answer = links.responses['201'].content['application/json'].schema;
    expect(Object.keys(answer.properties)).toEqual(
      expect.arrayContaining(['bundleId', 'statementUrl', 'signatureUrl']),
    );
    const gone = doc.paths['/api/v1/orgs/{orgId}/bundles/{bundleId}/bundle.sha256'].get.responses['410'];
    expect(gone.description).toMatch(/expired/);
  });
});
