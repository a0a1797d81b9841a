import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMetadataStore } from '../../../src/storage/metadata/open.js';
import type { MetadataTarget } from '../../../src/storage/metadata/types.js';
import { openSystemStore } from '../../../src/storage/system/open.js';
import type { SecretRow, SystemStore } from '../../../src/storage/system/types.js';
import { createTestDatabase, describePostgres } from '../metadata/postgres-test-db.js';

/** The same behaviour on SQLite and PostgreSQL. */
function systemStoreContract(
  create: () => Promise<{ target: MetadataTarget; dispose(): Promise<void> }>,
): void {
  let store: SystemStore;
  let target: MetadataTarget;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ target, dispose } = await create());
    store = await openSystemStore(target);
  });
  afterEach(async () => {
    await store.close();
    await dispose();
  });

  const secret = (revision: number, sealed: string): SecretRow => ({
    name: 'link.key',
    revision,
    masterKeyId: 'mk_test',
    sealed,
    updatedAt: 1,
  });

  it('stores, finds and deletes sessions by id hash', async () => {
    await store.insertSession({ idHash: 'h1', userId: 'u1', createdAt: 10, expiresAt: 100 });
    expect(await store.findSession('h1')).toEqual({
      idHash: 'h1',
      userId: 'u1',
      createdAt: 10,
      expiresAt: 100,
    });
    expect(await store.findSession('h2')).toBeUndefined();
    expect(await store.deleteSession('h1')).toBe(true);
    expect(await store.deleteSession('h1')).toBe(false);
    expect(await store.findSession('h1')).toBeUndefined();
  });

  it('removes only expired sessions', async () => {
    await store.insertSession({ idHash: 'old', userId: 'u', createdAt: 0, expiresAt: 50 });
    await store.insertSession({ idHash: 'edge', userId: 'u', createdAt: 0, expiresAt: 60 });
    await store.insertSession({ idHash: 'live', userId: 'u', createdAt: 0, expiresAt: 61 });
    expect(await store.deleteExpiredSessions(60)).toBe(2);
    expect(await store.findSession('live')).toBeDefined();
  });

  it('inserts a secret only once: the second writer loses and reads the first', async () => {
    expect(await store.insertSecretIfAbsent(secret(1, 'first'))).toBe(true);
    expect(await store.insertSecretIfAbsent(secret(1, 'second'))).toBe(false);
    expect((await store.findSecret('link.key'))?.sealed).toBe('first');
  });

  it('replaces a secret only at the expected revision', async () => {
    await store.insertSecretIfAbsent(secret(1, 'v1'));
    expect(await store.replaceSecret(secret(2, 'v2'), 1)).toBe(true);
    expect(await store.replaceSecret(secret(2, 'stale'), 1)).toBe(false);
    expect(await store.findSecret('link.key')).toMatchObject({ revision: 2, sealed: 'v2' });
  });

  it('shares its rows with a second connection and coexists with the metadata store', async () => {
    const metadata = await openMetadataStore(target);
    const second = await openSystemStore(target);
    try {
      await store.insertSession({ idHash: 'shared', userId: 'u', createdAt: 0, expiresAt: 10 });
      expect(await second.findSession('shared')).toBeDefined();
      await metadata.listOrganizations();
      await second.ping();
    } finally {
      await second.close();
      await metadata.close();
    }
  });
}

describe('SQLite system store', () => {
  systemStoreContract(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'agentpack-system-'));
    return { target: { dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
  });

  it('never blocks on the lock of the metadata connection: a busy write is retried until it lands', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'agentpack-system-'));
    const metadata = await openMetadataStore({ dataDir });
    const store = await openSystemStore({ dataDir });
    try {
      let release: () => void = () => undefined;
      const held = metadata.transaction(async (ops) => {
        await ops.appendAudit({ at: 1, orgId: null, actor: 't', action: 'lock', keyId: null, detail: null });
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const write = store.insertSession({ idHash: 'while-locked', userId: 'u', createdAt: 0, expiresAt: 10 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();
      await held;
      await write;
      expect(await store.findSession('while-locked')).toBeDefined();
    } finally {
      await store.close();
      await metadata.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describePostgres('PostgreSQL system store', (adminUrl) => {
  systemStoreContract(async () => {
    const database = await createTestDatabase(adminUrl);
    return { target: { databaseUrl: database.url }, dispose: () => database.drop() };
  });
});
