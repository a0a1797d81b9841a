import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { openServices } from '../src/services.js';
import { startS3Server } from './helpers/s3server.js';
import { createTestDatabase, describePostgres } from './storage/db/postgres-test-db.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'agentpack-services-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('openServices on the embedded default', () => {
  it('creates the data directory (mode 0700) with the database, master key, signing keyring and link key', async () => {
    const dataDir = join(root, 'data');
    const services = await openServices(loadConfig({ AGENTPACK_DATA_DIR: dataDir }, root));
    try {
      expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
      expect((await readdir(dataDir)).sort()).toEqual(
        expect.arrayContaining(['agentpack.db', 'link.key', 'master.key', 'signing-keys.json']),
      );
      for (const file of ['link.key', 'master.key', 'signing-keys.json'])
        expect((await stat(join(dataDir, file))).mode & 0o777).toBe(0o600);
      expect(services.linkKey).toHaveLength(32);
      await services.blobs.put('probe/x', Buffer.from('hello'));
      expect((await readdir(join(dataDir, 'blobs'))).includes('probe')).toBe(true);
    } finally {
      await services.close();
    }
  });

  it('keeps the same keys across restarts', async () => {
    const config = loadConfig({ AGENTPACK_DATA_DIR: join(root, 'data') }, root);
    const first = await openServices(config);
    const keyId = (await first.signing.current()).keyId;
    const linkKey = first.linkKey;
    await first.close();
    const second = await openServices(config);
    try {
      expect((await second.signing.current()).keyId).toBe(keyId);
      expect(second.linkKey.equals(linkKey)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('closes everything it opened when a step fails, and says which', async () => {
    const dataDir = join(root, 'data');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(join(dataDir, 'signing-keys.json'), 'not json', { mode: 0o600 });
    const config = loadConfig({ AGENTPACK_DATA_DIR: dataDir }, root);
    await expect(openServices(config)).rejects.toThrow(/expected JSON, found unparsable text/);
    // Nothing half-made stays behind: once the keyring is mended, the same directory starts.
    await rm(join(dataDir, 'signing-keys.json'));
    const services = await openServices(config);
    await services.close();
  });

  it('never opens anything with a bad master key: configuration refuses it first', () => {
    expect(() =>
      loadConfig(
        { AGENTPACK_DATA_DIR: join(root, 'data'), AGENTPACK_MASTER_KEY: Buffer.alloc(16).toString('base64') },
        root,
      ),
    ).toThrow(/AGENTPACK_MASTER_KEY must be base64 of 32 bytes; found 16 bytes/);
  });
});

describePostgres('openServices scaled out (PostgreSQL + S3)', (adminUrl) => {
  it('keeps nothing on local disk that two instances must share: same signing key, link key and sessions', async () => {
    const database = await createTestDatabase(adminUrl);
    const s3 = await startS3Server();
    const env = {
      DATABASE_URL: database.url,
      AGENTPACK_MASTER_KEY: randomBytes(32).toString('base64'),
      AGENTPACK_S3_BUCKET: s3.bucket,
      AGENTPACK_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    };
    const configA = loadConfig({ ...env, AGENTPACK_DATA_DIR: join(root, 'a') }, root);
    const configB = loadConfig({ ...env, AGENTPACK_DATA_DIR: join(root, 'b') }, root);
    const [a, b] = await Promise.all([openServices(configA), openServices(configB)]);
    try {
      expect((await a.signing.current()).keyId).toBe((await b.signing.current()).keyId);
      expect(a.linkKey.equals(b.linkKey)).toBe(true);
      await expect(stat(join(root, 'a'))).rejects.toThrow(/ENOENT/);

      const org = await a.credentials.createOrganization('Scale', { actor: 'test' });
      await a.credentials.addUser(
        { email: 'ops@scale.test', orgId: org.orgId, role: 'admin', password: 'ops password' },
        'test',
      );
      const [appA, appB] = [
        await buildApp(a, configA, { logger: false }),
        await buildApp(b, configB, { logger: false }),
      ];
      try {
        const login = await appA.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { email: 'ops@scale.test', password: 'ops password' },
        });
        const cookie = `agentpack_session=${login.cookies.find((c) => c.name === 'agentpack_session')?.value}`;
        const viaB = await appB.inject({ url: '/api/v1/session', headers: { cookie } });
        expect(viaB.statusCode).toBe(200);
        expect(viaB.json().csrfToken).toBe(login.json().csrfToken);
        expect((await appB.inject({ url: '/readyz' })).statusCode).toBe(200);
      } finally {
        await appA.close();
        await appB.close();
      }
    } finally {
      await a.close();
      await b.close();
      await s3.close();
      await database.drop();
    }
  });
});
