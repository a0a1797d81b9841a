import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiHeaders, createTestApp, login, type TestApp } from './harness.js';

const run = promisify(execFile);

let t: TestApp;
let work: string;
const bundleUrl = (orgId: string, version = 'latest', kind = 'java') =>
  `/api/v1/orgs/${orgId}/agents/${kind}/${version}/bundle`;

beforeAll(async () => {
  t = await createTestApp();
  work = await mkdtemp(join(tmpdir(), 'agentpack-bundles-'));
});

afterAll(async () => {
  await t.close();
  await rm(work, { recursive: true, force: true });
});

/** `openssl pkeyutl -verify` of dir/bundle.sha256 against dir/bundle.sig with dir/key.pem; its stdout. */
async function opensslVerifies(dir: string): Promise<string> {
  const args = [
    'pkeyutl',
    '-verify',
    '-pubin',
    '-inkey',
    'key.pem',
    '-rawin',
    '-in',
    'bundle.sha256',
    '-sigfile',
    'bundle.sig',
  ];
  return (await run('openssl', args, { cwd: dir })).stdout;
}

/** Signs in a new system admin of `app`'s Acme organization. */
async function systemAdminSession(app: TestApp, email: string) {
  const password = 'pw-root-123456';
  await app.services.credentials.addUser(
    { email, orgId: app.acme.orgId, role: 'admin', password, systemAdmin: true },
    'test',
  );
  return login(app.app, { userId: '', email, password, serviceKey: '' });
}

/** A fresh organization (rotations in it cannot disturb other tests) and API headers of one user. */
async function organizationWithUser(name: string, role: 'admin' | 'member') {
  const org = await t.services.credentials.createOrganization(name, { actor: 'test' });
  const email = `${role}@${org.slug}.test`;
  const added = await t.services.credentials.addUser({ email, orgId: org.orgId, role }, 'test');
  return {
    org,
    headers: apiHeaders(
      { userId: added.userId, email, password: '', serviceKey: added.serviceKey ?? '' },
      org,
    ),
  };
}

async function unzipText(bytes: Buffer, entry: string): Promise<string> {
  const file = join(work, `b-${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}.zip`);
  await writeFile(file, bytes);
  return (await run('unzip', ['-p', file, entry])).stdout;
}

describe('GET /api/v1/orgs/{orgId}/agents/{kind}/{version}/bundle', () => {
  it('serves the sample Java agent with the organization keys embedded, with ETag, digest and disposition', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: bundleUrl(t.acme.orgId),
      headers: apiHeaders(t.member, t.acme),
    });
    expect(response.statusCode).toBe(200);
    const body = response.rawPayload;
    const sha256 = createHash('sha256').update(body).digest('hex');
    expect(response.headers.etag).toBe(`"${sha256}"`);
    expect(response.headers['repr-digest']).toBe(
      `sha-256=:${createHash('sha256').update(body).digest('base64')}:`,
    );
    expect(response.headers['content-length']).toBe(String(body.length));
    expect(response.headers['cache-control']).toBe('private, no-cache');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="agentpack-java-1.0.0-${t.acme.slug}.jar"`,
    );
    const config = await unzipText(body, 'agentpack.properties');
    expect(config).toContain(`api.api_key=${t.acme.apiKey}`);
    expect(config).toContain(`api.service_key=${t.acme.agent.serviceKey}`);
  });

  it('builds a bundle once when the first requests for it arrive together, and serves the same bytes to all', async () => {
    const { org, headers } = await organizationWithUser('Epsilon', 'member');
    const builds = async () => {
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(/^agentpack_bundle_builds_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
    };
    const before = await builds();
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => t.app.inject({ method: 'GET', url: bundleUrl(org.orgId), headers })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect(new Set(responses.map((r) => createHash('sha256').update(r.rawPayload).digest('hex'))).size).toBe(
      1,
    );
    expect((await builds()) - before).toBe(1);
  });

  it('answers 304 to If-None-Match with the current ETag, and HEAD without a body', async () => {
    const first = await t.app.inject({
      method: 'HEAD',
      url: bundleUrl(t.acme.orgId),
      headers: apiHeaders(t.member, t.acme),
    });
    expect(first.statusCode).toBe(200);
    expect(first.rawPayload.length).toBe(0);
    expect(Number(first.headers['content-length'])).toBeGreaterThan(1000);
    const again = await t.app.inject({
      method: 'GET',
      url: bundleUrl(t.acme.orgId),
      headers: { ...apiHeaders(t.member, t.acme), 'if-none-match': String(first.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
  });

  it('serves single ranges across the prefix and the tail, and 416 outside the bundle', async () => {
    const whole = (
      await t.app.inject({
        method: 'GET',
        url: bundleUrl(t.acme.orgId),
        headers: apiHeaders(t.member, t.acme),
      })
    ).rawPayload;
    const size = whole.length;
    for (const [start, end] of [
      [0, 9],
      [size - 200, size - 1],
      [10, size - 10],
    ] as const) {
      const part = await t.app.inject({
        method: 'GET',
        url: bundleUrl(t.acme.orgId),
        headers: { ...apiHeaders(t.member, t.acme), range: `bytes=${start}-${end}` },
      });
      expect(part.statusCode).toBe(206);
      expect(part.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(part.rawPayload.equals(whole.subarray(start, end + 1))).toBe(true);
    }
    const outside = await t.app.inject({
      method: 'GET',
      url: bundleUrl(t.acme.orgId),
      headers: { ...apiHeaders(t.member, t.acme), range: `bytes=${size}-` },
    });
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${size}`);
    const malformed = await t.app.inject({
      method: 'GET',
      url: bundleUrl(t.acme.orgId),
      headers: { ...apiHeaders(t.member, t.acme), range: 'bytes=9-2' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().message).toMatch(/before its start/);
  });

  it('publishes a statement and signature that sha256sum and openssl accept', async () => {
    const headers = apiHeaders(t.member, t.acme);
    const bundle = await t.app.inject({ method: 'GET', url: bundleUrl(t.acme.orgId), headers });
    const statement = await t.app.inject({
      method: 'GET',
      url: `${bundleUrl(t.acme.orgId)}.sha256`,
      headers,
    });
    const signature = await t.app.inject({ method: 'GET', url: `${bundleUrl(t.acme.orgId)}.sig`, headers });
    const pem = await t.app.inject({ method: 'GET', url: '/.well-known/agentpack/signing-key.pem' });
    const name = `agentpack-java-1.0.0-${t.acme.slug}.jar`;
    const dir = await mkdtemp(join(work, 'verify-'));
    await writeFile(join(dir, name), bundle.rawPayload);
    await writeFile(join(dir, 'bundle.sha256'), statement.rawPayload);
    await writeFile(join(dir, 'bundle.sig'), signature.rawPayload);
    await writeFile(join(dir, 'key.pem'), pem.rawPayload);
    expect(statement.body).toContain(`# org: ${t.acme.orgId}`);
    expect((await run('sha256sum', ['-c', 'bundle.sha256'], { cwd: dir })).stdout).toContain(`${name}: OK`);
    expect(await opensslVerifies(dir)).toContain('Signature Verified Successfully');
  });

  it('still verifies an older statement after the signing key rotates, with the key its key-id names', async () => {
    const headers = apiHeaders(t.member, t.acme);
    const statement = await t.app.inject({
      method: 'GET',
      url: `${bundleUrl(t.acme.orgId)}.sha256`,
      headers,
    });
    const signature = await t.app.inject({ method: 'GET', url: `${bundleUrl(t.acme.orgId)}.sig`, headers });
    const keyId = /^# key-id: (\S+)$/m.exec(statement.body)?.[1] ?? '';
    await t.services.signing.rotate();
    const current = await t.app.inject({ method: 'GET', url: '/.well-known/agentpack/signing-key.pem' });
    expect(current.headers['key-id']).not.toBe(keyId);
    const byId = await t.app.inject({
      method: 'GET',
      url: `/.well-known/agentpack/signing-keys/${keyId}.pem`,
    });
    expect(byId.statusCode).toBe(200);
    const dir = await mkdtemp(join(work, 'rotated-'));
    await writeFile(join(dir, 'bundle.sha256'), statement.rawPayload);
    await writeFile(join(dir, 'bundle.sig'), signature.rawPayload);
    await writeFile(join(dir, 'key.pem'), byId.rawPayload);
    expect(await opensslVerifies(dir)).toContain('Signature Verified Successfully');
    const unknown = await t.app.inject({
      method: 'GET',
      url: '/.well-known/agentpack/signing-keys/0000000000000000.pem',
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('answers 404 for another organization, an unknown kind or version, and 400 for a malformed id', async () => {
    const headers = apiHeaders(t.member, t.acme);
    expect((await t.app.inject({ method: 'GET', url: bundleUrl(t.other.orgId), headers })).statusCode).toBe(
      404,
    );
    const kind = await t.app.inject({
      method: 'GET',
      url: bundleUrl(t.acme.orgId, 'latest', 'cobol'),
      headers,
    });
    expect(kind.statusCode).toBe(404);
    expect(kind.json().message).toMatch(/cobol/);
    const version = await t.app.inject({ method: 'GET', url: bundleUrl(t.acme.orgId, '9.9.9'), headers });
    expect(version.statusCode).toBe(404);
    expect(version.json().message).toMatch(/9\.9\.9/);
    expect((await t.app.inject({ method: 'GET', url: bundleUrl('not-a-uuid'), headers })).statusCode).toBe(
      400,
    );
  });

  it('embeds the new agent service key after a rotation, while the old bundle stays addressable by its ETag', async () => {
    const headers = apiHeaders(t.admin, t.acme);
    const before = await t.app.inject({ method: 'GET', url: bundleUrl(t.acme.orgId), headers });
    const rotated = await t.services.credentials.rotateKey(t.acme.orgId, 'agent-service-key', 3600, 'test');
    const after = await t.app.inject({ method: 'GET', url: bundleUrl(t.acme.orgId), headers });
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const config = await unzipText(after.rawPayload, 'agentpack.properties');
    expect(config).toContain(`api.service_key=${rotated.key}`);
    expect(config).not.toContain(t.acme.agent.serviceKey);
  });

  it('serves the config alone with no-store, and the zip format with the untouched agent beside it', async () => {
    const headers = apiHeaders(t.member, t.acme);
    const config = await t.app.inject({
      method: 'GET',
      url: `/api/v1/orgs/${t.acme.orgId}/agents/java/latest/config`,
      headers,
    });
    expect(config.statusCode).toBe(200);
    expect(config.headers['cache-control']).toBe('no-store');
    expect(config.body).toContain(`api.api_key=${t.acme.apiKey}`);
    const zip = await t.app.inject({ method: 'GET', url: `${bundleUrl(t.acme.orgId)}?format=zip`, headers });
    expect(zip.statusCode).toBe(200);
    const file = join(work, 'separate.zip');
    await writeFile(file, zip.rawPayload);
    const listing = (await run('unzip', ['-Z1', file])).stdout.split('\n').filter(Boolean).sort();
    expect(listing).toEqual([
      'README.txt',
      'SHA256SUMS',
      'SHA256SUMS.sig',
      'agentpack.properties',
      'java-agent-1.0.0.jar',
    ]);
    const dir = await mkdtemp(join(work, 'sep-'));
    await run('unzip', ['-q', file, '-d', dir]);
    expect((await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir })).stdout).toMatch(
      /java-agent-1\.0\.0\.jar: OK/,
    );
    const untouched = await readFile(join(dir, 'java-agent-1.0.0.jar'));
    const fixture = await readFile(
      new URL('../../fixtures/java-agent/agentpack-java-agent.jar', import.meta.url),
    );
    expect(untouched.equals(fixture)).toBe(true);
  });
});

describe('POST /api/v1/orgs/{orgId}/agents/{kind}/{version}/links and GET /dl/{token}', () => {
  async function createLink(ttlSeconds: number, body: Record<string, unknown> = {}) {
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${t.acme.orgId}/agents/java/latest/links`,
      headers: apiHeaders(t.member, t.acme),
      payload: { ttlSeconds, ...body },
    });
    expect(response.statusCode).toBe(201);
    return response.json() as { url: string; expiresAt: string; sha256: string };
  }

  it('creates a link that downloads without headers, bound to the bundle it was made for', async () => {
    const link = await createLink(600);
    const path = new URL(link.url).pathname;
    const response = await t.app.inject({ method: 'GET', url: path });
    expect(response.statusCode).toBe(200);
    expect(createHash('sha256').update(response.rawPayload).digest('hex')).toBe(link.sha256);
    const statement = await t.app.inject({ method: 'GET', url: `${path}/bundle.sha256` });
    expect(statement.body.startsWith(`${link.sha256}  `)).toBe(true);
  });

  it('puts proxy settings given with the link into the config', async () => {
    const link = await createLink(600, {
      settings: { 'proxy.host': 'proxy.internal', 'proxy.port': '3128' },
    });
    const response = await t.app.inject({ method: 'GET', url: new URL(link.url).pathname });
    const config = await unzipText(response.rawPayload, 'agentpack.properties');
    expect(config).toContain('proxy.host=proxy.internal');
    expect(config).toContain('proxy.port=3128');
  });

  it('answers 403 for a tampered token and for an expired one', async () => {
    const link = await createLink(60);
    const path = new URL(link.url).pathname;
    const tampered = path.slice(0, -3) + (path.endsWith('A') ? 'BBB' : 'AAA');
    const bad = await t.app.inject({ method: 'GET', url: tampered });
    expect(bad.statusCode).toBe(403);
    t.clock += 61_000;
    const expired = await t.app.inject({ method: 'GET', url: path });
    expect(expired.statusCode).toBe(403);
    expect(expired.json().message).toMatch(/expired/);
  });

  it('keeps serving the old keys through a link during the grace period, then answers 410 and collects the record', async () => {
    const { org: gamma, headers } = await organizationWithUser('Gamma', 'member');
    const created = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${gamma.orgId}/agents/java/latest/links`,
      headers,
      payload: { ttlSeconds: 7 * 24 * 3600 },
    });
    const link = created.json() as { url: string; sha256: string };
    const path = new URL(link.url).pathname;
    await t.services.credentials.rotateKey(gamma.orgId, 'api-key', 3600, 'test');
    const during = await t.app.inject({ method: 'GET', url: path });
    expect(during.statusCode).toBe(200);
    expect(createHash('sha256').update(during.rawPayload).digest('hex')).toBe(link.sha256);
    t.clock += 3601_000;
    const after = await t.app.inject({ method: 'GET', url: path });
    expect(after.statusCode).toBe(410);
    expect(after.json().message).toMatch(/expired/);
    const layer = t.services.bundles as import('../../src/bundles/layer.js').BundleLayer;
    expect(await layer.service.collect({ orgId: gamma.orgId })).toBeGreaterThan(0);
    const collected = await t.app.inject({ method: 'GET', url: path });
    expect(collected.statusCode).toBe(410);
  });

  it('refuses a lifetime beyond seven days with a message', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${t.acme.orgId}/agents/java/latest/links`,
      headers: apiHeaders(t.member, t.acme),
      payload: { ttlSeconds: 8 * 24 * 3600 },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/ttlSeconds/);
  });

  it('never writes the token to the log', async () => {
    const link = await createLink(600);
    const token = new URL(link.url).pathname.slice('/dl/'.length);
    await t.app.inject({ method: 'GET', url: `/dl/${token}` });
    expect(t.logs.join('\n')).not.toContain(token.split('.')[2]);
  });
});

describe('the catalog', () => {
  it('lists kinds with their versions and latest', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agents',
      headers: apiHeaders(t.member, t.acme),
    });
    expect(response.statusCode).toBe(200);
    const kinds = response.json().kinds as Array<{ kind: string; latest: string | null }>;
    expect(kinds.map((k) => [k.kind, k.latest])).toEqual([
      ['java', '1.0.0'],
      ['node', '1.0.0'],
    ]);
  });

  it('accepts an upload from a system admin, and latest follows the highest version', async () => {
    const session = await systemAdminSession(t, 'root@agentpack.test');
    const jar = await readFile(
      new URL('../../fixtures/java-agent/agentpack-java-agent.jar', import.meta.url),
    );
    const upload = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agents/java/versions/1.10.0',
      headers: { ...session.headers, 'content-type': 'application/java-archive' },
      payload: jar,
    });
    expect(upload.statusCode).toBe(201);
    expect(upload.json().sha256).toBe(createHash('sha256').update(jar).digest('hex'));
    const bundle = await t.app.inject({
      method: 'HEAD',
      url: bundleUrl(t.acme.orgId),
      headers: apiHeaders(t.member, t.acme),
    });
    expect(bundle.headers['content-disposition']).toContain('java-1.10.0');
    const withdraw = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/agents/java/versions/1.10.0',
      headers: session.headers,
      payload: { withdrawn: true },
    });
    expect(withdraw.statusCode).toBe(200);
    const after = await t.app.inject({
      method: 'HEAD',
      url: bundleUrl(t.acme.orgId),
      headers: apiHeaders(t.member, t.acme),
    });
    expect(after.headers['content-disposition']).toContain('java-1.0.0');
    const gone = await t.app.inject({
      method: 'GET',
      url: bundleUrl(t.acme.orgId, '1.10.0'),
      headers: apiHeaders(t.member, t.acme),
    });
    expect(gone.statusCode).toBe(404);
  });

  it('rejects a hostile archive with 422 and the reason, and stores nothing', async () => {
    const session = await systemAdminSession(t, 'root2@agentpack.test');
    const hostile = await readFile(
      new URL("../corpus/failure/has a '..' segment in its name.zip", import.meta.url),
    );
    const upload = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agents/node/versions/6.6.6',
      headers: { ...session.headers, 'content-type': 'application/zip' },
      payload: hostile,
    });
    expect(upload.statusCode).toBe(422);
    expect(upload.json().message).toContain("'..' segment");
    expect(await t.services.store.findAgentVersion('node', '6.6.6')).toBeUndefined();
  });

  it('answers 403 to an upload by someone who is not a system admin', async () => {
    const upload = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agents/java/versions/2.0.0',
      headers: { ...apiHeaders(t.admin, t.acme), 'content-type': 'application/java-archive' },
      payload: Buffer.from('PK'),
    });
    expect(upload.statusCode).toBe(403);
  });
});

describe('POST /api/v1/orgs/{orgId}/keys/{which}/rotate', () => {
  it('builds the new bundle in the background, so the next download finds it ready', async () => {
    const { org: delta, headers } = await organizationWithUser('Delta', 'admin');
    const rotate = await t.app.inject({
      method: 'POST',
      url: `/api/v1/orgs/${delta.orgId}/keys/agent-service-key/rotate`,
      headers,
      payload: { graceSeconds: 0 },
    });
    expect(rotate.statusCode).toBe(200);
    const layer = t.services.bundles as import('../../src/bundles/layer.js').BundleLayer;
    await expect
      .poll(async () => (await t.services.store.listBundles({ orgId: delta.orgId })).length, {
        timeout: 30_000,
      })
      .toBe(2);
    const keys = await t.services.credentials.getKeys(delta.orgId);
    const bundle = await layer.service.current({ orgId: delta.orgId, kind: 'java', version: 'latest' });
    expect(bundle.built).not.toBe(true);
    expect(JSON.parse(bundle.row.keyVersions)['agent-service-key']).toBe(keys.versions.agentServiceKey);
  });
});

describe('POST /api/v1/agents/{kind}/versions/{version} with a size limit', () => {
  it('answers 413 for an upload over the limit, declared or streamed, and stores nothing', async () => {
    const small = await createTestApp({ env: { AGENTPACK_MAX_ARCHIVE_BYTES: '16384' } });
    try {
      const session = await systemAdminSession(small, 'root@small.test');
      const jar = Buffer.concat([
        await readFile(new URL('../../fixtures/java-agent/agentpack-java-agent.jar', import.meta.url)),
        Buffer.alloc(20_000),
      ]);
      const declared = await small.app.inject({
        method: 'POST',
        url: '/api/v1/agents/java/versions/3.0.0',
        headers: { ...session.headers, 'content-type': 'application/java-archive' },
        payload: jar,
      });
      expect(declared.statusCode).toBe(413);
      expect(declared.json().message).toMatch(/16384 bytes/);
      const { Readable } = await import('node:stream');
      const streamed = await small.app.inject({
        method: 'POST',
        url: '/api/v1/agents/java/versions/3.0.1',
        headers: {
          ...session.headers,
          'content-type': 'application/java-archive',
          'transfer-encoding': 'chunked',
        },
        payload: Readable.from([jar.subarray(0, 10_000), jar.subarray(10_000)]),
      });
      expect(streamed.statusCode).toBe(413);
      expect(await small.services.store.findAgentVersion('java', '3.0.0')).toBeUndefined();
      expect(await small.services.store.findAgentVersion('java', '3.0.1')).toBeUndefined();
    } finally {
      await small.close();
    }
  });
});
