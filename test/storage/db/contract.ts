import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/common/errors.js';
import { openStore } from '../../../src/storage/db/open.js';
import type {
  AgentVersionRow,
  BundleRow,
  KeyVersionRow,
  OrganizationRow,
  SecretRow,
  Store,
  StoreTarget,
  UserRow,
} from '../../../src/storage/db/types.js';

/** A fresh, empty target per test, and how to throw it away. */
export interface TargetFactory {
  create(): Promise<{ target: StoreTarget; dispose(): Promise<void> }>;
}

const T0 = 1_900_000_000_000; // beyond 2^32 seconds' worth of ms: times must survive as numbers

function org(slug: string, name = slug): OrganizationRow {
  return { id: randomUUID(), name, slug, createdAt: T0 };
}

function user(email: string): UserRow {
  return { id: randomUUID(), email, passwordHash: null, systemAdmin: false, createdAt: T0 };
}

function keyVersion(ownerId: string, version: number, over: Partial<KeyVersionRow> = {}): KeyVersionRow {
  return {
    keyId: `apo_${randomUUID().replaceAll('-', '').slice(0, 12)}`,
    ownerId,
    purpose: 'api-key',
    version,
    digest: 'ZGlnZXN0',
    masterKeyId: 'mk_a',
    sealed: 'c2VhbGVk',
    createdAt: T0 + version,
    expiresAt: null,
    ...over,
  };
}

function agentVersion(kind: string, version: string, over: Partial<AgentVersionRow> = {}): AgentVersionRow {
  return {
    kind,
    version,
    sha256: 'ab'.repeat(32),
    size: 5_000_000_000, // past 2^32: sizes must survive as numbers
    blobKey: `bases/${kind}/${version}`,
    entryCount: 3,
    uploadedAt: T0,
    uploadedBy: 'test',
    withdrawnAt: null,
    ...over,
  };
}

function bundle(id: string, over: Partial<BundleRow> = {}): BundleRow {
  return {
    id,
    orgId: 'org-1',
    kind: 'java',
    version: '1.0.0',
    baseSha256: 'cd'.repeat(32),
    keyVersions: '{"api-key":1,"agent-service-key":1}',
    settingsSealed: 'c2VhbGVk',
    settingsMasterKeyId: 'mk_a',
    sha256: 'ef'.repeat(32),
    size: 1234,
    fileName: 'agent.jar',
    statement: 'statement',
    signature: 'c2ln',
    createdAt: T0,
    ...over,
  };
}

function secret(revision: number, sealed: string): SecretRow {
  return { name: 'link.key', revision, masterKeyId: 'mk_test', sealed, updatedAt: T0 };
}

/** One suite, every implementation: SQLite and PostgreSQL must behave the same. */
export function metadataStoreContract(factory: TargetFactory): void {
  let store: Store;
  let target: StoreTarget;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ target, dispose } = await factory.create());
    store = await openStore(target);
  });

  afterEach(async () => {
    await store.close();
    await dispose();
  });

  describe('migrations', () => {
    it('applies them at open and keeps the data when the store is opened again', async () => {
      const acme = org('acme');
      await store.insertOrganization(acme);
      await store.close();
      store = await openStore(target);
      expect(await store.findOrganizationById(acme.id)).toEqual(acme);
    });
  });

  describe('organizations', () => {
    it('finds an organization by id and by slug, and nothing for unknown ones', async () => {
      const acme = org('acme', 'Acme Corp');
      await store.insertOrganization(acme);
      expect(await store.findOrganizationById(acme.id)).toEqual(acme);
      expect(await store.findOrganizationBySlug('acme')).toEqual(acme);
      expect(await store.findOrganizationById(randomUUID())).toBeUndefined();
      expect(await store.findOrganizationBySlug('nope')).toBeUndefined();
    });

    it('refuses a second organization with the same slug with a ConflictError', async () => {
      await store.insertOrganization(org('acme'));
      const error = await store.insertOrganization(org('acme', 'Other')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toBe("organization slug 'acme' is already taken");
      expect(await store.listOrganizations()).toHaveLength(1);
    });

    it('lists organizations by name', async () => {
      for (const name of ['zeta', 'alpha', 'mid']) await store.insertOrganization(org(name));
      expect((await store.listOrganizations()).map((o) => o.name)).toEqual(['alpha', 'mid', 'zeta']);
    });

    it('locks an existing organization and reports a missing one', async () => {
      const acme = org('acme');
      await store.insertOrganization(acme);
      expect(await store.transaction((ops) => ops.lockOrganization(acme.id))).toBe(true);
      expect(await store.transaction((ops) => ops.lockOrganization(randomUUID()))).toBe(false);
    });
  });

  describe('users and memberships', () => {
    it('finds a user by id and e-mail and refuses a duplicate e-mail', async () => {
      const alice = { ...user('alice@example.com'), systemAdmin: true, passwordHash: 'scrypt$x' };
      await store.insertUser(alice);
      expect(await store.findUserById(alice.id)).toEqual(alice);
      expect(await store.findUserByEmail('alice@example.com')).toEqual(alice);
      await expect(store.insertUser(user('alice@example.com'))).rejects.toBeInstanceOf(ConflictError);
    });

    it('changes a password hash and reports an unknown user', async () => {
      const bob = user('bob@example.com');
      await store.insertUser(bob);
      expect(await store.setPasswordHash(bob.id, 'scrypt$new')).toBe(true);
      expect((await store.findUserById(bob.id))?.passwordHash).toBe('scrypt$new');
      expect(await store.setPasswordHash(randomUUID(), 'scrypt$new')).toBe(false);
    });

    it('keeps one role per user and organization, and lists members by e-mail', async () => {
      const acme = org('acme');
      const [bob, alice] = [user('bob@example.com'), user('alice@example.com')];
      await store.insertOrganization(acme);
      for (const u of [bob, alice]) await store.insertUser(u);
      await store.insertMembership({ userId: bob.id, orgId: acme.id, role: 'member', createdAt: T0 });
      await store.insertMembership({ userId: alice.id, orgId: acme.id, role: 'admin', createdAt: T0 });
      const again = { userId: bob.id, orgId: acme.id, role: 'admin' as const, createdAt: T0 };
      await expect(store.insertMembership(again)).rejects.toBeInstanceOf(ConflictError);
      expect((await store.listMembers(acme.id)).map((m) => [m.user.email, m.role])).toEqual([
        ['alice@example.com', 'admin'],
        ['bob@example.com', 'member'],
      ]);
      expect(await store.findMembership(bob.id, acme.id)).toEqual({
        userId: bob.id,
        orgId: acme.id,
        role: 'member',
        createdAt: T0,
      });
      expect(await store.listMemberships(alice.id)).toHaveLength(1);
    });

    it('refuses a membership in an organization that does not exist', async () => {
      const bob = user('bob@example.com');
      await store.insertUser(bob);
      const membership = { userId: bob.id, orgId: randomUUID(), role: 'member' as const, createdAt: T0 };
      await expect(store.insertMembership(membership)).rejects.toThrow();
      expect(await store.listMemberships(bob.id)).toEqual([]);
    });
  });

  describe('key versions', () => {
    it('lists versions newest first and finds them by key id', async () => {
      const owner = randomUUID();
      const [v1, v2] = [keyVersion(owner, 1), keyVersion(owner, 2)];
      await store.insertKeyVersion(v1);
      await store.insertKeyVersion(v2);
      await store.insertKeyVersion(keyVersion(owner, 1, { purpose: 'agent-service-key' }));
      expect(await store.listKeyVersions(owner, 'api-key')).toEqual([v2, v1]);
      expect(await store.findKeyVersions([v1.keyId, 'apo_unknown'])).toEqual([v1]);
      expect(await store.findKeyVersions([])).toEqual([]);
    });

    it('refuses a second row for the same owner, purpose and version', async () => {
      const owner = randomUUID();
      await store.insertKeyVersion(keyVersion(owner, 1));
      await expect(store.insertKeyVersion(keyVersion(owner, 1))).rejects.toBeInstanceOf(ConflictError);
      expect(await store.listKeyVersions(owner, 'api-key')).toHaveLength(1);
    });

    it('sets and clears an expiry', async () => {
      const row = keyVersion(randomUUID(), 1);
      await store.insertKeyVersion(row);
      expect(await store.setKeyExpiry(row.keyId, T0 + 5000)).toBe(true);
      expect((await store.findKeyVersions([row.keyId]))[0]?.expiresAt).toBe(T0 + 5000);
      await store.setKeyExpiry(row.keyId, null);
      expect((await store.findKeyVersions([row.keyId]))[0]?.expiresAt).toBeNull();
      expect(await store.setKeyExpiry('apo_unknown', 1)).toBe(false);
    });

    it('counts records per master key and rewrites a sealed record', async () => {
      const owner = randomUUID();
      const old = keyVersion(owner, 1, { masterKeyId: 'mk_old' });
      await store.insertKeyVersion(old);
      await store.insertKeyVersion(keyVersion(owner, 2, { masterKeyId: 'mk_new' }));
      expect(Object.fromEntries(await store.countByMasterKey())).toEqual({ mk_old: 1, mk_new: 1 });
      expect((await store.listKeyVersionsNotSealedBy('mk_new')).map((r) => r.keyId)).toEqual([old.keyId]);
      expect(await store.setSealed(old.keyId, 'mk_new', 'bmV3')).toBe(true);
      expect(await store.listKeyVersionsNotSealedBy('mk_new')).toEqual([]);
      expect((await store.findKeyVersions([old.keyId]))[0]).toMatchObject({
        masterKeyId: 'mk_new',
        sealed: 'bmV3',
      });
    });
  });

  describe('audit log', () => {
    it('pages entries newest first, per organization', async () => {
      const orgId = randomUUID();
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const entry = { at: T0 + i, orgId, actor: 'cli:test', action: `a.${i}`, keyId: null, detail: null };
        ids.push(await store.appendAudit(entry));
      }
      await store.appendAudit({
        at: T0,
        orgId: null,
        actor: 'system',
        action: 'x',
        keyId: 'apo_1',
        detail: '{}',
      });
      const first = await store.listAudit(orgId, { limit: 2 });
      expect(first.map((r) => r.action)).toEqual(['a.4', 'a.3']);
      const next = await store.listAudit(orgId, { limit: 10, before: first[1]?.id });
      expect(next.map((r) => r.action)).toEqual(['a.2', 'a.1', 'a.0']);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      const system = await store.listAudit(null, { limit: 10 });
      expect(system).toEqual([
        {
          id: expect.any(Number),
          at: T0,
          orgId: null,
          actor: 'system',
          action: 'x',
          keyId: 'apo_1',
          detail: '{}',
        },
      ]);
    });
  });

  describe('transactions', () => {
    it('commits every write of a transaction that returns', async () => {
      const acme = org('acme');
      const result = await store.transaction(async (ops) => {
        await ops.insertOrganization(acme);
        await ops.insertKeyVersion(keyVersion(acme.id, 1));
        return 'done';
      });
      expect(result).toBe('done');
      expect(await store.listKeyVersions(acme.id, 'api-key')).toHaveLength(1);
    });

    it('rolls back every write of a transaction that throws, and rethrows the error', async () => {
      const acme = org('acme');
      const boom = new Error('crash in the middle');
      const error = await store
        .transaction(async (ops) => {
          await ops.insertOrganization(acme);
          await ops.insertKeyVersion(keyVersion(acme.id, 1));
          throw boom;
        })
        .catch((e: unknown) => e);
      expect(error).toBe(boom);
      expect(await store.findOrganizationById(acme.id)).toBeUndefined();
      expect(await store.listKeyVersions(acme.id, 'api-key')).toEqual([]);
    });

    it('rolls back when a write inside the transaction conflicts', async () => {
      await store.insertOrganization(org('acme'));
      const other = org('other');
      await expect(
        store.transaction(async (ops) => {
          await ops.insertOrganization(other);
          await ops.insertOrganization(org('acme'));
        }),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await store.findOrganizationById(other.id)).toBeUndefined();
    });

    it('serializes transactions that lock the same organization', async () => {
      const acme = org('acme');
      await store.insertOrganization(acme);
      const order: string[] = [];
      const work = (name: string) =>
        store.transaction(async (ops) => {
          await ops.lockOrganization(acme.id);
          order.push(`${name}:start`);
          const latest = (await ops.listKeyVersions(acme.id, 'api-key'))[0]?.version ?? 0;
          await new Promise((resolve) => setTimeout(resolve, 20));
          await ops.insertKeyVersion(keyVersion(acme.id, latest + 1));
          order.push(`${name}:end`);
        });
      await Promise.all([work('a'), work('b')]);
      expect((await store.listKeyVersions(acme.id, 'api-key')).map((r) => r.version)).toEqual([2, 1]);
      expect([order[0]?.slice(2), order[1]?.slice(2)]).toEqual(['start', 'end']);
    });
  });

  describe('catalog: base agents', () => {
    it('records a version, finds it, and refuses the same kind and version twice', async () => {
      const row = agentVersion('java', '1.0.0');
      await store.insertAgentVersion(row);
      expect(await store.findAgentVersion('java', '1.0.0')).toEqual(row);
      expect(await store.findAgentVersion('java', '2.0.0')).toBeUndefined();
      const error = await store.insertAgentVersion(agentVersion('java', '1.0.0')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toBe('agent java version 1.0.0 is already in the catalog');
    });

    it('lists every kind by name and upload time, or one kind', async () => {
      await store.insertAgentVersion(agentVersion('node', '1.0.0', { uploadedAt: T0 + 1 }));
      await store.insertAgentVersion(agentVersion('java', '2.0.0', { uploadedAt: T0 + 2 }));
      await store.insertAgentVersion(agentVersion('java', '1.0.0', { uploadedAt: T0 + 1 }));
      expect((await store.listAgentVersions()).map((r) => `${r.kind}@${r.version}`)).toEqual([
        'java@1.0.0',
        'java@2.0.0',
        'node@1.0.0',
      ]);
      expect((await store.listAgentVersions('node')).map((r) => r.version)).toEqual(['1.0.0']);
    });

    it('withdraws and restores a version, and reports an unknown one', async () => {
      await store.insertAgentVersion(agentVersion('java', '1.0.0'));
      expect(await store.setAgentVersionWithdrawn('java', '1.0.0', T0 + 5)).toBe(true);
      expect((await store.findAgentVersion('java', '1.0.0'))?.withdrawnAt).toBe(T0 + 5);
      expect(await store.setAgentVersionWithdrawn('java', '1.0.0', null)).toBe(true);
      expect((await store.findAgentVersion('java', '1.0.0'))?.withdrawnAt).toBeNull();
      expect(await store.setAgentVersionWithdrawn('java', '9.9.9', T0)).toBe(false);
    });
  });

  describe('catalog: bundles', () => {
    it('records bundles in one call, keeping the first record of an id', async () => {
      await store.insertBundles([bundle('b1'), bundle('b2', { orgId: 'org-2' })]);
      await store.insertBundles([bundle('b1', { sha256: 'changed' })]);
      await store.insertBundles([]);
      expect(await store.findBundle('b1')).toEqual(bundle('b1'));
      expect(await store.findBundle('nope')).toBeUndefined();
    });

    it('lists bundles by organization, kind and version, oldest first', async () => {
      await store.insertBundles([
        bundle('b3', { createdAt: T0 + 3 }),
        bundle('b1', { createdAt: T0 + 1, kind: 'node' }),
        bundle('b2', { createdAt: T0 + 2, orgId: 'org-2' }),
        bundle('b4', { createdAt: T0 + 4, version: '2.0.0' }),
      ]);
      expect((await store.listBundles()).map((b) => b.id)).toEqual(['b1', 'b2', 'b3', 'b4']);
      expect((await store.listBundles({ orgId: 'org-1' })).map((b) => b.id)).toEqual(['b1', 'b3', 'b4']);
      expect((await store.listBundles({ orgId: 'org-1', kind: 'java' })).map((b) => b.id)).toEqual([
        'b3',
        'b4',
      ]);
      expect((await store.listBundles({ version: '2.0.0' })).map((b) => b.id)).toEqual(['b4']);
    });

    it('deletes any number of bundles by id and says how many went', async () => {
      const rows = Array.from({ length: 1203 }, (_, i) => bundle(`b${i}`));
      await store.insertBundles(rows);
      const gone = rows.slice(0, 1201).map((r) => r.id);
      expect(await store.deleteBundles([...gone, 'unknown'])).toBe(1201);
      expect((await store.listBundles()).map((b) => b.id).sort()).toEqual(['b1201', 'b1202']);
    });

    it('re-seals the render settings of one bundle', async () => {
      await store.insertBundles([bundle('b1'), bundle('b2')]);
      await store.setBundleSettingsSealed('b1', 'mk_new', 'bmV3');
      expect(await store.findBundle('b1')).toMatchObject({
        settingsMasterKeyId: 'mk_new',
        settingsSealed: 'bmV3',
      });
      expect(await store.findBundle('b2')).toMatchObject({ settingsMasterKeyId: 'mk_a' });
    });
  });

  describe('sessions', () => {
    it('stores, finds and deletes sessions by id hash', async () => {
      await store.insertSession({ idHash: 'h1', userId: 'u1', createdAt: 10, expiresAt: T0 });
      expect(await store.findSession('h1')).toEqual({
        idHash: 'h1',
        userId: 'u1',
        createdAt: 10,
        expiresAt: T0,
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
  });

  describe('system secrets', () => {
    it('inserts a secret only once: the second writer loses and reads the first', async () => {
      expect(await store.insertSecretIfAbsent(secret(1, 'first'))).toBe(true);
      expect(await store.insertSecretIfAbsent(secret(1, 'second'))).toBe(false);
      expect(await store.findSecret('link.key')).toEqual(secret(1, 'first'));
      expect(await store.findSecret('other')).toBeUndefined();
    });

    it('replaces a secret only at the expected revision', async () => {
      await store.insertSecretIfAbsent(secret(1, 'v1'));
      expect(await store.replaceSecret(secret(2, 'v2'), 1)).toBe(true);
      expect(await store.replaceSecret(secret(2, 'stale'), 1)).toBe(false);
      expect(await store.findSecret('link.key')).toMatchObject({ revision: 2, sealed: 'v2' });
    });
  });

  describe('connections', () => {
    it('answers a ping, and shares its rows with another process opening the same target', async () => {
      await store.ping();
      const second = await openStore(target);
      try {
        await store.insertSession({ idHash: 'shared', userId: 'u', createdAt: 0, expiresAt: 10 });
        await store.insertAgentVersion(agentVersion('java', '1.0.0'));
        expect(await second.findSession('shared')).toBeDefined();
        expect(await second.findAgentVersion('java', '1.0.0')).toBeDefined();
      } finally {
        await second.close();
      }
    });

    it('refuses every call once closed', async () => {
      await store.close();
      await expect(store.ping()).rejects.toThrow();
      store = await openStore(target);
    });
  });
}
