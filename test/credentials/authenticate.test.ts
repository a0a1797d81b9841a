import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintKey } from '../../src/credentials/key-format.js';
import type { AddedUser, CreatedOrganization } from '../../src/credentials/types.js';
import { agentHeaders, b64, createHarness, type Harness, storeKinds } from './harness.js';

describe.each(storeKinds)('authentication (%s)', (kind) => {
  let h: Harness;
  let acme: CreatedOrganization;
  let other: CreatedOrganization;

  beforeEach(async () => {
    h = await createHarness(kind);
    acme = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
    other = await h.credentials.createOrganization('Other', { actor: 'cli:test' });
  });

  afterEach(async () => {
    await h.dispose();
  });

  describe('authenticateAgent', () => {
    it('accepts the agent credentials with its own organization API key', async () => {
      const principal = await h.credentials.authenticateAgent(
        agentHeaders(acme.agent.userName, acme.agent.serviceKey, acme.apiKey),
      );
      expect(principal).toEqual({
        kind: 'agent',
        orgId: acme.orgId,
        orgSlug: 'acme',
        userName: acme.agent.userName,
        keyIds: acme.keyIds,
        versions: { apiKey: 1, agentServiceKey: 1 },
      });
    });

    it('accepts the Basic scheme prefix too', async () => {
      const headers = agentHeaders(acme.agent.userName, acme.agent.serviceKey, acme.apiKey);
      const principal = await h.credentials.authenticateAgent({
        ...headers,
        authorization: `Basic ${headers.authorization}`,
      });
      expect(principal?.orgId).toBe(acme.orgId);
    });

    it.each([
      [
        'another organization API key',
        (a: CreatedOrganization, o: CreatedOrganization) =>
          agentHeaders(a.agent.userName, a.agent.serviceKey, o.apiKey),
      ],
      [
        'another organization service key',
        (a: CreatedOrganization, o: CreatedOrganization) =>
          agentHeaders(a.agent.userName, o.agent.serviceKey, a.apiKey),
      ],
      [
        'another organization user name',
        (a: CreatedOrganization, o: CreatedOrganization) =>
          agentHeaders(o.agent.userName, a.agent.serviceKey, a.apiKey),
      ],
      [
        'a user name with the wrong slug',
        (a: CreatedOrganization) =>
          agentHeaders(a.agent.userName.replace('@acme', '@other'), a.agent.serviceKey, a.apiKey),
      ],
      [
        'the keys swapped',
        (a: CreatedOrganization) => agentHeaders(a.agent.userName, a.apiKey, a.agent.serviceKey),
      ],
      [
        'no API-Key header',
        (a: CreatedOrganization) => ({
          authorization: agentHeaders(a.agent.userName, a.agent.serviceKey, '').authorization,
        }),
      ],
      [
        'a mistyped API key',
        (a: CreatedOrganization) =>
          agentHeaders(a.agent.userName, a.agent.serviceKey, `${a.apiKey.slice(0, -1)}x`),
      ],
      [
        'a well-formed key that was never minted',
        (a: CreatedOrganization) =>
          agentHeaders(a.agent.userName, a.agent.serviceKey, mintKey('api-key').text),
      ],
    ])('answers null for %s', async (_name, build) => {
      expect(await h.credentials.authenticateAgent(build(acme, other))).toBeNull();
    });

    it.each([
      ['no headers at all', {}],
      ['an empty Authorization', { authorization: '', 'api-key': 'x' }],
      ['Authorization that is not base64', { authorization: '%%%not-base64%%%', 'api-key': 'x' }],
      ['Authorization without a colon', { authorization: b64('agent_only'), 'api-key': 'x' }],
      ['a huge Authorization', { authorization: 'A'.repeat(1_000_000), 'api-key': 'x' }],
      ['a repeated API-Key', { authorization: b64('a:b'), 'api-key': ['x', 'y'] }],
      [
        'binary garbage',
        { authorization: Buffer.from([0, 255, 58, 1]).toString('base64'), 'api-key': '\u0000' },
      ],
    ])('answers null, never throws, for %s', async (_name, headers) => {
      await expect(h.credentials.authenticateAgent(headers)).resolves.toBeNull();
      await expect(h.credentials.authenticatePersonal(headers)).resolves.toBeNull();
    });

    it('logs a failure at debug level with key ids at most', async () => {
      await h.credentials.authenticateAgent(
        agentHeaders(acme.agent.userName, acme.agent.serviceKey, other.apiKey),
      );
      const line = h.logs.at(-1) ?? '';
      expect(JSON.parse(line)).toMatchObject({
        level: 'debug',
        message: 'authentication failed',
        reason: 'rejected',
      });
      expect(line).toContain(other.keyIds.apiKey);
      expect(line).not.toContain(other.apiKey);
    });
  });

  describe('authenticatePersonal', () => {
    let alice: AddedUser;

    beforeEach(async () => {
      alice = await h.credentials.addUser(
        { email: 'alice@example.com', orgId: acme.orgId, role: 'admin' },
        'cli:test',
      );
    });

    const personal = (email: string, key: string, apiKey: string) => ({
      authorization: b64(`${email}:${key}`),
      'api-key': apiKey,
    });

    it('accepts e-mail and personal key with the API key of an organization the user belongs to', async () => {
      const principal = await h.credentials.authenticatePersonal(
        personal('Alice@Example.com', alice.serviceKey ?? '', acme.apiKey),
      );
      expect(principal).toEqual({
        kind: 'personal',
        userId: alice.userId,
        email: 'alice@example.com',
        orgId: acme.orgId,
        role: 'admin',
        systemAdmin: false,
        keyIds: { apiKey: acme.keyIds.apiKey, serviceKey: alice.serviceKeyId },
      });
    });

    it('refuses the API key of an organization the user does not belong to', async () => {
      expect(
        await h.credentials.authenticatePersonal(
          personal('alice@example.com', alice.serviceKey ?? '', other.apiKey),
        ),
      ).toBeNull();
    });

    it("refuses another user's e-mail with this user's key", async () => {
      const bob = await h.credentials.addUser(
        { email: 'bob@example.com', orgId: acme.orgId, role: 'member' },
        'cli:test',
      );
      expect(
        await h.credentials.authenticatePersonal(
          personal('bob@example.com', alice.serviceKey ?? '', acme.apiKey),
        ),
      ).toBeNull();
      expect(
        await h.credentials.authenticatePersonal(
          personal('bob@example.com', bob.serviceKey ?? '', acme.apiKey),
        ),
      ).not.toBeNull();
    });

    it('lets a system admin in with any organization key, with no role there', async () => {
      const root = await h.credentials.addUser(
        { email: 'root@example.com', orgId: acme.orgId, role: 'member', systemAdmin: true },
        'cli:test',
      );
      const principal = await h.credentials.authenticatePersonal(
        personal('root@example.com', root.serviceKey ?? '', other.apiKey),
      );
      expect(principal).toMatchObject({ orgId: other.orgId, role: null, systemAdmin: true });
    });

    it('refuses agent credentials on the personal path and personal ones on the agent path', async () => {
      expect(
        await h.credentials.authenticatePersonal(
          agentHeaders(acme.agent.userName, acme.agent.serviceKey, acme.apiKey),
        ),
      ).toBeNull();
      expect(
        await h.credentials.authenticateAgent(
          personal(acme.agent.userName, alice.serviceKey ?? '', acme.apiKey),
        ),
      ).toBeNull();
    });
  });
});
