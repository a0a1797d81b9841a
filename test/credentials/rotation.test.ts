import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, UsageError } from '../../src/common/errors.js';
import type { CreatedOrganization } from '../../src/credentials/types.js';
import type { Store, StoreOps } from '../../src/storage/db/types.js';
import { agentHeaders, createHarness, type Harness, storeKinds } from './harness.js';

const HOUR = 3600_000;

/** The store, except that inserting a key version inside a transaction crashes. */
function crashingOnInsert(store: Store): Store {
  const crash = (ops: StoreOps): StoreOps =>
    new Proxy(ops, {
      get(target, name, receiver) {
        if (name === 'insertKeyVersion') return () => Promise.reject(new Error('simulated crash'));
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'transaction') {
        return <T>(work: (ops: StoreOps) => Promise<T>) => target.transaction((ops) => work(crash(ops)));
      }
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe.each(storeKinds)('key rotation (%s)', (kind) => {
  let h: Harness;
  let org: CreatedOrganization;

  beforeEach(async () => {
    h = await createHarness(kind);
    org = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
  });

  afterEach(async () => {
    await h.dispose();
  });

  const agentOk = async (serviceKey: string, apiKey: string) =>
    (await h.credentials.authenticateAgent(agentHeaders(org.agent.userName, serviceKey, apiKey))) !== null;

  it('keeps the previous API key valid through the grace period, then stops it', async () => {
    const rotated = await h.credentials.rotateKey(org.orgId, 'api-key', 3600, 'user:admin@example.com');
    expect(rotated).toMatchObject({
      which: 'api-key',
      version: 2,
      previous: { version: 1, keyId: org.keyIds.apiKey },
    });
    expect(rotated.previous.expiresAt).toBe(new Date(h.clock + HOUR).toISOString());
    expect(await agentOk(org.agent.serviceKey, org.apiKey)).toBe(true);
    expect(await agentOk(org.agent.serviceKey, rotated.key)).toBe(true);
    h.clock += HOUR - 1;
    expect(await agentOk(org.agent.serviceKey, org.apiKey)).toBe(true);
    h.clock += 1;
    expect(await agentOk(org.agent.serviceKey, org.apiKey)).toBe(false);
    expect(await agentOk(org.agent.serviceKey, rotated.key)).toBe(true);
  });

  it('stops the previous key at once with a grace of 0', async () => {
    const rotated = await h.credentials.rotateKey(org.orgId, 'agent-service-key', 0, 'cli:test');
    expect(await agentOk(org.agent.serviceKey, org.apiKey)).toBe(false);
    expect(await agentOk(rotated.key, org.apiKey)).toBe(true);
    expect((await h.credentials.getKeys(org.orgId)).expiries).toEqual([]);
  });

  it('shows the new version and the pending expiry in getKeys', async () => {
    const rotated = await h.credentials.rotateKey(org.orgId, 'agent-service-key', 86400, 'cli:test');
    const keys = await h.credentials.getKeys(org.orgId);
    expect(keys.agent.serviceKey).toBe(rotated.key);
    expect(keys.apiKey).toBe(org.apiKey);
    expect(keys.versions).toEqual({ apiKey: 1, agentServiceKey: 2 });
    expect(keys.expiries).toEqual([
      {
        which: 'agent-service-key',
        version: 1,
        keyId: org.keyIds.agentServiceKey,
        expiresAt: new Date(h.clock + 24 * HOUR).toISOString(),
      },
    ]);
  });

  it('keeps at most two versions valid: rotating during a grace period ends the oldest', async () => {
    const v2 = await h.credentials.rotateKey(org.orgId, 'api-key', 3600, 'cli:test');
    const v3 = await h.credentials.rotateKey(org.orgId, 'api-key', 3600, 'cli:test');
    expect(v3.ended).toEqual([{ version: 1, keyId: org.keyIds.apiKey }]);
    expect(await agentOk(org.agent.serviceKey, org.apiKey)).toBe(false);
    expect(await agentOk(org.agent.serviceKey, v2.key)).toBe(true);
    expect(await agentOk(org.agent.serviceKey, v3.key)).toBe(true);
    expect(await h.credentials.keyForVersion(org.orgId, 'api-key', 1)).toBeNull();
    expect(await h.credentials.keyForVersion(org.orgId, 'api-key', 2)).toBe(v2.key);
    expect((await h.credentials.getKeys(org.orgId)).expiries.map((e) => e.version)).toEqual([2]);
  });

  it('ends a grace period early and audits it', async () => {
    await h.credentials.rotateKey(org.orgId, 'api-key', 7 * 86400, 'cli:test');
    const ended = await h.credentials.endGrace(org.orgId, 'api-key', 'user:admin@example.com');
    expect(ended.ended).toEqual([{ version: 1, keyId: org.keyIds.apiKey }]);
    expect(await agentOk(org.agent.serviceKey, org.apiKey)).toBe(false);
    const [entry] = (await h.credentials.listAudit(org.orgId, { limit: 1 })).entries;
    expect(entry).toMatchObject({
      action: 'key.grace_ended',
      actor: 'user:admin@example.com',
      keyId: org.keyIds.apiKey,
      detail: { which: 'api-key', version: 1 },
    });
  });

  it('refuses to end a grace period when none is running', async () => {
    await expect(h.credentials.endGrace(org.orgId, 'api-key', 'cli:test')).rejects.toBeInstanceOf(
      ConflictError,
    );
    await h.credentials.rotateKey(org.orgId, 'api-key', 60, 'cli:test');
    h.clock += 60_000;
    await expect(h.credentials.endGrace(org.orgId, 'api-key', 'cli:test')).rejects.toThrow(
      `no grace period is running for the api-key of organization ${org.orgId}`,
    );
  });

  it('audits every rotation with the key ids and the chosen expiry', async () => {
    const rotated = await h.credentials.rotateKey(org.orgId, 'api-key', 90, 'user:admin@example.com');
    const [entry] = (await h.credentials.listAudit(org.orgId, { limit: 1 })).entries;
    expect(entry).toEqual({
      id: expect.any(Number),
      at: new Date(h.clock).toISOString(),
      orgId: org.orgId,
      actor: 'user:admin@example.com',
      action: 'key.rotated',
      keyId: rotated.keyId,
      detail: {
        which: 'api-key',
        version: 2,
        previousKeyId: org.keyIds.apiKey,
        previousVersion: 1,
        graceSeconds: 90,
        previousExpiresAt: new Date(h.clock + 90_000).toISOString(),
        endedKeyIds: [],
      },
    });
  });

  it('leaves the old state intact when it crashes in the middle', async () => {
    await h.credentials.rotateKey(org.orgId, 'api-key', 3600, 'cli:test');
    const before = await h.credentials.getKeys(org.orgId);
    const auditBefore = await h.credentials.listAudit(org.orgId);
    const crashing = h.withStore(crashingOnInsert(h.store));
    await expect(crashing.rotateKey(org.orgId, 'api-key', 0, 'cli:test')).rejects.toThrow('simulated crash');
    expect(await h.credentials.getKeys(org.orgId)).toEqual(before);
    expect(await h.credentials.listAudit(org.orgId)).toEqual(auditBefore);
    expect(await agentOk(org.agent.serviceKey, org.apiKey)).toBe(true);
  });

  it('gives concurrent rotations distinct versions and still at most two valid keys', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => h.credentials.rotateKey(org.orgId, 'agent-service-key', 3600, 'cli:test')),
    );
    expect(results.map((r) => r.version).sort()).toEqual([2, 3, 4]);
    const valid = [org.agent.serviceKey, ...results.map((r) => r.key)];
    const ok = await Promise.all(valid.map((key) => agentOk(key, org.apiKey)));
    expect(ok.filter(Boolean)).toHaveLength(2);
  });

  it('refuses an unknown organization, an unknown key and a grace over 30 days', async () => {
    await expect(
      h.credentials.rotateKey('00000000-0000-4000-8000-000000000000', 'api-key', 0, 'cli:test'),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.credentials.rotateKey(org.orgId, 'password', 0, 'cli:test')).rejects.toThrow(
      "expected api-key or agent-service-key; found 'password'",
    );
    await expect(
      h.credentials.rotateKey(org.orgId, 'api-key', 31 * 86400, 'cli:test'),
    ).rejects.toBeInstanceOf(UsageError);
    expect((await h.credentials.getKeys(org.orgId)).versions).toEqual({ apiKey: 1, agentServiceKey: 1 });
  });
});
