import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, UsageError } from '../../src/common/errors.js';
import { createHarness, type Harness, storeKinds } from './harness.js';

describe.each(storeKinds)('organizations (%s)', (kind) => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness(kind);
  });

  afterEach(async () => {
    await h.dispose();
  });

  describe('createOrganization', () => {
    it('returns the org id, a slug from the name, and both keys once', async () => {
      const org = await h.credentials.createOrganization('Acme Corp.', { actor: 'cli:test' });
      expect(org.orgId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(org.slug).toBe('acme-corp');
      expect(org.apiKey).toMatch(/^apo_/);
      expect(org.agent).toEqual({
        userName: `agent_${org.orgId}@acme-corp`,
        serviceKey: expect.stringMatching(/^aps_/),
      });
      expect(org.versions).toEqual({ apiKey: 1, agentServiceKey: 1 });
      expect(org.keyIds.apiKey).toBe(org.apiKey.slice(0, 16));
    });

    it('takes a chosen slug', async () => {
      const org = await h.credentials.createOrganization('Acme', { slug: 'acme-eu', actor: 'cli:test' });
      expect(org.slug).toBe('acme-eu');
      expect((await h.credentials.getOrganization('acme-eu'))?.orgId).toBe(org.orgId);
    });

    it('refuses a taken slug and changes nothing', async () => {
      await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
      const before = await h.credentials.listOrganizations();
      const error = await h.credentials
        .createOrganization('ACME', { actor: 'cli:test' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toBe("organization slug 'acme' is already taken");
      expect(await h.credentials.listOrganizations()).toEqual(before);
    });

    it('refuses a name that gives no slug, and an invalid chosen slug', async () => {
      await expect(h.credentials.createOrganization('!!!', { actor: 'cli:test' })).rejects.toThrow(
        "cannot derive a slug from the name '!!!'; choose one (--slug)",
      );
      await expect(
        h.credentials.createOrganization('Acme', { slug: 'Bad Slug', actor: 'cli:test' }),
      ).rejects.toThrow(UsageError);
      expect(await h.credentials.listOrganizations()).toEqual([]);
    });

    it('records org.created with the key ids, never the keys', async () => {
      const org = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
      const [entry] = (await h.credentials.listAudit(org.orgId)).entries;
      expect(entry).toMatchObject({
        action: 'org.created',
        actor: 'cli:test',
        orgId: org.orgId,
        detail: { name: 'Acme', slug: 'acme', ...org.keyIds },
      });
      expect(JSON.stringify(entry)).not.toContain(org.apiKey);
    });
  });

  describe('getOrganization and listOrganizations', () => {
    it('finds an organization by id or slug and lists them by name', async () => {
      const b = await h.credentials.createOrganization('Beta', { actor: 'cli:test' });
      await h.credentials.createOrganization('Alpha', { actor: 'cli:test' });
      expect(await h.credentials.getOrganization(b.orgId)).toEqual({
        orgId: b.orgId,
        name: 'Beta',
        slug: 'beta',
        agentUserName: b.agent.userName,
        createdAt: new Date(h.clock).toISOString(),
      });
      expect((await h.credentials.getOrganization('beta'))?.orgId).toBe(b.orgId);
      expect(await h.credentials.getOrganization('nope')).toBeNull();
      expect((await h.credentials.listOrganizations()).map((o) => o.name)).toEqual(['Alpha', 'Beta']);
    });
  });

  describe('getKeys', () => {
    it('gives the current keys, versions and key ids', async () => {
      const org = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
      expect(await h.credentials.getKeys(org.orgId)).toEqual({
        orgId: org.orgId,
        slug: 'acme',
        apiKey: org.apiKey,
        agent: org.agent,
        versions: { apiKey: 1, agentServiceKey: 1 },
        keyIds: org.keyIds,
        expiries: [],
      });
    });

    it('audits key.viewed only when told who looked', async () => {
      const org = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
      await h.credentials.getKeys(org.orgId);
      await h.credentials.getKeys(org.orgId, { viewedBy: 'user:alice@example.com' });
      const actions = (await h.credentials.listAudit(org.orgId)).entries.map((e) => [e.action, e.actor]);
      expect(actions).toEqual([
        ['key.viewed', 'user:alice@example.com'],
        ['org.created', 'cli:test'],
      ]);
    });

    it('answers NotFoundError for an unknown organization', async () => {
      await expect(h.credentials.getKeys('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });
});
