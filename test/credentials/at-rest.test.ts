import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Credentials } from '../../src/credentials/credentials.js';
import { keyringFrom } from '../../src/credentials/keyring.js';
import { openStore } from '../../src/storage/db/open.js';
import { createHarness, type Harness, storeKinds } from './harness.js';

describe.each(storeKinds)('secrets at rest (%s)', (kind) => {
  const oldKey = randomBytes(32);
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness(kind, keyringFrom(oldKey));
  });

  afterEach(async () => {
    await h.dispose();
  });

  it('does not decrypt a sealed key copied into another organization', async () => {
    const acme = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
    const other = await h.credentials.createOrganization('Other', { actor: 'cli:test' });
    const [acmeRow] = await h.store.findKeyVersions([acme.keyIds.apiKey]);
    await h.store.setSealed(other.keyIds.apiKey, acmeRow?.masterKeyId ?? '', acmeRow?.sealed ?? '');
    await expect(h.credentials.getKeys(other.orgId)).rejects.toThrow(
      `cannot decrypt the api-key version 1 of ${other.orgId}: authentication failed`,
    );
    expect((await h.credentials.getKeys(acme.orgId)).apiKey).toBe(acme.apiKey);
  });

  it('moves every record to the current master key with rewrap, then needs the old key no more', async () => {
    const acme = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
    const user = await h.credentials.addUser(
      { email: 'a@example.com', orgId: acme.orgId, role: 'admin' },
      'cli:test',
    );
    const newKey = randomBytes(32);
    const both = new Credentials({
      store: h.store,
      keyring: keyringFrom(newKey, [oldKey]),
      now: () => h.clock,
    });
    expect(await both.rewrap('cli:test')).toEqual({ masterKeyId: both.currentMasterKeyId, rewrapped: 3 });
    expect(Object.fromEntries(await both.masterKeyUsage())).toEqual({ [both.currentMasterKeyId]: 3 });
    const onlyNew = new Credentials({ store: h.store, keyring: keyringFrom(newKey) });
    await onlyNew.checkMasterKeys();
    expect((await onlyNew.getKeys(acme.orgId)).apiKey).toBe(acme.apiKey);
    expect(await both.rewrap('cli:test')).toMatchObject({ rewrapped: 0 });
    const [entry] = (await both.listAudit(null)).entries;
    expect(entry).toMatchObject({ action: 'master_key.rewrapped', detail: { count: 0 } });
    expect(user.serviceKey).toMatch(/^apu_/);
  });

  it('rewraps the sealed render settings of bundle records too', async () => {
    const acme = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
    const sealed = h.credentials.sealOrgSecret(acme.orgId, 'bundle-settings', '{"proxy.password":"hunter2"}');
    await h.store.insertBundles([
      {
        id: 'b'.repeat(64),
        orgId: acme.orgId,
        kind: 'java',
        version: '1.0.0',
        baseSha256: 'c'.repeat(64),
        keyVersions: '{}',
        settingsSealed: sealed.sealed,
        settingsMasterKeyId: sealed.masterKeyId,
        sha256: 'd'.repeat(64),
        size: 1,
        fileName: 'x.jar',
        statement: '',
        signature: '',
        createdAt: 0,
      },
    ]);
    const newKey = randomBytes(32);
    const both = new Credentials({
      store: h.store,
      keyring: keyringFrom(newKey, [oldKey]),
      now: () => h.clock,
    });
    expect(await both.rewrap('cli:test')).toMatchObject({ rewrapped: 3 });
    const [row] = await h.store.listBundles({ orgId: acme.orgId });
    expect(row?.settingsMasterKeyId).toBe(both.currentMasterKeyId);
    const onlyNew = new Credentials({ store: h.store, keyring: keyringFrom(newKey) });
    await onlyNew.checkMasterKeys();
    expect(
      onlyNew.unsealOrgSecret(acme.orgId, 'bundle-settings', {
        masterKeyId: row?.settingsMasterKeyId ?? '',
        sealed: row?.settingsSealed ?? '',
      }),
    ).toContain('hunter2');
  });

  it('refuses to start when records are sealed under a master key that is not configured', async () => {
    await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
    const stranger = new Credentials({ store: h.store, keyring: keyringFrom(randomBytes(32)) });
    await expect(stranger.checkMasterKeys()).rejects.toThrow(
      /^the database holds secrets sealed under master keys that are not configured: mk_[0-9a-f]{16} \(2 records\)/,
    );
  });

  it('rewrites nothing when one record cannot be opened', async () => {
    const acme = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
    const other = await h.credentials.createOrganization('Other', { actor: 'cli:test' });
    const [row] = await h.store.findKeyVersions([acme.keyIds.apiKey]);
    await h.store.setSealed(other.keyIds.apiKey, row?.masterKeyId ?? '', row?.sealed ?? '');
    const before = await h.store.countByMasterKey();
    const both = new Credentials({ store: h.store, keyring: keyringFrom(randomBytes(32), [oldKey]) });
    await expect(both.rewrap('cli:test')).rejects.toThrow(/cannot decrypt/);
    expect(await h.store.countByMasterKey()).toEqual(before);
  });

  it('keeps working after the store is closed and opened again', async () => {
    const acme = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
    const reopened = await openStore(h.target);
    try {
      const again = new Credentials({ store: reopened, keyring: keyringFrom(oldKey) });
      expect((await again.getKeys(acme.orgId)).agent.serviceKey).toBe(acme.agent.serviceKey);
    } finally {
      await reopened.close();
    }
  });
});
