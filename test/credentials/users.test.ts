import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, UsageError } from '../../src/common/errors.js';
import type { CreatedOrganization, NewUser } from '../../src/credentials/types.js';
import { createHarness, type Harness, storeKinds } from './harness.js';

describe.each(storeKinds)('users (%s)', (kind) => {
  let h: Harness;
  let acme: CreatedOrganization;

  beforeEach(async () => {
    h = await createHarness(kind);
    acme = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
  });

  afterEach(async () => {
    await h.dispose();
  });

  describe('addUser', () => {
    it('creates the user with a personal service key and a membership, and audits user.added', async () => {
      const added = await h.credentials.addUser(
        { email: 'Alice@Example.com', orgId: acme.orgId, role: 'admin' },
        'cli:test',
      );
      expect(added).toMatchObject({
        email: 'alice@example.com',
        orgId: acme.orgId,
        role: 'admin',
        created: true,
      });
      expect(added.serviceKey).toMatch(/^apu_/);
      expect(added.serviceKeyId).toBe(added.serviceKey?.slice(0, 16));
      expect(await h.credentials.roleIn(added.userId, acme.orgId)).toBe('admin');
      const [entry] = (await h.credentials.listAudit(acme.orgId, { limit: 1 })).entries;
      expect(entry).toMatchObject({
        action: 'user.added',
        keyId: added.serviceKeyId,
        detail: { email: 'alice@example.com', role: 'admin' },
      });
    });

    it('adds an existing user to another organization without a new key', async () => {
      const beta = await h.credentials.createOrganization('Beta', { actor: 'cli:test' });
      const first = await h.credentials.addUser(
        { email: 'bob@example.com', orgId: acme.orgId, role: 'member' },
        'cli:test',
      );
      const again = await h.credentials.addUser(
        { email: 'bob@example.com', orgId: beta.orgId, role: 'admin' },
        'cli:test',
      );
      expect(again).toEqual({
        userId: first.userId,
        email: 'bob@example.com',
        orgId: beta.orgId,
        role: 'admin',
        created: false,
        serviceKey: null,
        serviceKeyId: null,
      });
      expect((await h.credentials.getUser('bob@example.com'))?.memberships).toHaveLength(2);
    });

    it('refuses a second membership in the same organization', async () => {
      await h.credentials.addUser(
        { email: 'bob@example.com', orgId: acme.orgId, role: 'member' },
        'cli:test',
      );
      await expect(
        h.credentials.addUser({ email: 'bob@example.com', orgId: acme.orgId, role: 'admin' }, 'cli:test'),
      ).rejects.toBeInstanceOf(ConflictError);
      expect(await h.credentials.listMembers(acme.orgId)).toEqual([
        { userId: expect.any(String), email: 'bob@example.com', role: 'member', systemAdmin: false },
      ]);
    });

    it('refuses a bad e-mail, a bad role, a short password and an unknown organization, adding nobody', async () => {
      /** Role is typed for callers, but the HTTP layer will pass whatever arrived. */
      const add = (over: Record<string, string>) =>
        h.credentials.addUser(
          { email: 'carol@example.com', orgId: acme.orgId, role: 'member', ...over } as NewUser,
          'cli:test',
        );
      await expect(add({ email: 'carol' })).rejects.toBeInstanceOf(UsageError);
      await expect(add({ role: 'owner' })).rejects.toThrow("expected role admin or member; found 'owner'");
      await expect(add({ password: 'short' })).rejects.toBeInstanceOf(UsageError);
      await expect(add({ orgId: '00000000-0000-4000-8000-000000000000' })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await h.credentials.getUser('carol@example.com')).toBeNull();
    });
  });

  describe('passwords', () => {
    it('verifies the password a user was created with', async () => {
      const added = await h.credentials.addUser(
        { email: 'dave@example.com', orgId: acme.orgId, role: 'member', password: 'correct horse battery' },
        'cli:test',
      );
      expect(await h.credentials.verifyPassword('DAVE@example.com', 'correct horse battery')).toMatchObject({
        userId: added.userId,
        hasPassword: true,
        memberships: [{ orgId: acme.orgId, role: 'member' }],
      });
      expect(await h.credentials.verifyPassword('dave@example.com', 'wrong horse battery')).toBeNull();
    });

    it('answers null for an unknown user and for a user without a password', async () => {
      await h.credentials.addUser(
        { email: 'erin@example.com', orgId: acme.orgId, role: 'member' },
        'cli:test',
      );
      expect(await h.credentials.verifyPassword('nobody@example.com', 'whatever-password')).toBeNull();
      expect(await h.credentials.verifyPassword('erin@example.com', 'whatever-password')).toBeNull();
    });

    it('sets a new password', async () => {
      const added = await h.credentials.addUser(
        { email: 'erin@example.com', orgId: acme.orgId, role: 'member' },
        'cli:test',
      );
      await h.credentials.setPassword(added.userId, 'a brand new one', 'cli:test');
      expect((await h.credentials.verifyPassword('erin@example.com', 'a brand new one'))?.userId).toBe(
        added.userId,
      );
    });
  });

  describe('getUser and roles', () => {
    it('finds a user by id or e-mail, with system admin flag and memberships', async () => {
      const added = await h.credentials.addUser(
        { email: 'root@example.com', orgId: acme.orgId, role: 'admin', systemAdmin: true },
        'cli:test',
      );
      const byId = await h.credentials.getUser(added.userId);
      expect(byId).toEqual({
        userId: added.userId,
        email: 'root@example.com',
        systemAdmin: true,
        hasPassword: false,
        memberships: [{ orgId: acme.orgId, role: 'admin' }],
      });
      expect(await h.credentials.getUser('ROOT@example.com')).toEqual(byId);
      expect(await h.credentials.roleIn(added.userId, '00000000-0000-4000-8000-000000000000')).toBeNull();
    });
  });
});
