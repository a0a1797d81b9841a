import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Credentials } from '../../src/credentials/credentials.js';
import type { CreatedOrganization } from '../../src/credentials/types.js';
import { agentHeaders, createHarness, type Harness } from './harness.js';

/**
 * The agent login cache: a second Credentials over the same database stands for another
 * instance (or the CLI) changing keys behind this one's back.
 */
describe('agent login cache', () => {
  let h: Harness;
  let acme: CreatedOrganization;
  let headers: Record<string, string>;

  const withCache = (seconds: number): Credentials =>
    new Credentials({
      store: h.store,
      keyring: h.keyring,
      now: () => h.clock,
      agentAuthCacheSeconds: seconds,
    });

  beforeEach(async () => {
    h = await createHarness('sqlite');
    acme = await h.credentials.createOrganization('Acme', { actor: 'cli:test' });
    headers = agentHeaders(acme.agent.userName, acme.agent.serviceKey, acme.apiKey);
  });

  afterEach(async () => {
    await h.dispose();
  });

  it('keeps accepting a login another instance revoked for at most the cache time', async () => {
    const here = withCache(5);
    expect((await here.authenticateAgent(headers))?.orgId).toBe(acme.orgId);
    await h.withStore(h.store).rotateKey(acme.orgId, 'agent-service-key', 0, 'cli:test');
    h.clock += 4_000;
    expect((await here.authenticateAgent(headers))?.orgId).toBe(acme.orgId);
    h.clock += 1_000;
    expect(await here.authenticateAgent(headers)).toBeNull();
  });

  it('forgets every login at once when this instance rotates or ends a grace period', async () => {
    const here = withCache(60);
    expect(await here.authenticateAgent(headers)).not.toBeNull();
    const rotated = await here.rotateKey(acme.orgId, 'api-key', 0, 'cli:test');
    expect(await here.authenticateAgent(headers)).toBeNull();

    const fresh = agentHeaders(acme.agent.userName, acme.agent.serviceKey, rotated.key);
    expect(await here.authenticateAgent(fresh)).not.toBeNull();
    await here.rotateKey(acme.orgId, 'agent-service-key', 3600, 'cli:test');
    expect(await here.authenticateAgent(fresh)).not.toBeNull();
    await here.endGrace(acme.orgId, 'agent-service-key', 'cli:test');
    expect(await here.authenticateAgent(fresh)).toBeNull();
  });

  it('never keeps a login past the expiry of the keys it used', async () => {
    const here = withCache(60);
    await here.rotateKey(acme.orgId, 'agent-service-key', 10, 'cli:test');
    expect(await here.authenticateAgent(headers)).not.toBeNull();
    h.clock += 9_999;
    expect(await here.authenticateAgent(headers)).not.toBeNull();
    h.clock += 1;
    expect(await here.authenticateAgent(headers)).toBeNull();
  });

  it('keeps no failure: a key that becomes valid is accepted at once', async () => {
    const here = withCache(60);
    const wrong = agentHeaders(acme.agent.userName, acme.agent.serviceKey, `${acme.apiKey.slice(0, -1)}x`);
    expect(await here.authenticateAgent(wrong)).toBeNull();
    const rotated = await h.withStore(h.store).rotateKey(acme.orgId, 'agent-service-key', 60, 'cli:test');
    const next = agentHeaders(acme.agent.userName, rotated.key, acme.apiKey);
    expect(await here.authenticateAgent(next)).not.toBeNull();
  });

  it('is off at 0 seconds: a revocation elsewhere counts on the next request', async () => {
    const here = withCache(0);
    expect(await here.authenticateAgent(headers)).not.toBeNull();
    await h.withStore(h.store).rotateKey(acme.orgId, 'agent-service-key', 0, 'cli:test');
    expect(await here.authenticateAgent(headers)).toBeNull();
  });

  it('keys entries by both headers: the same service key with another API key is checked again', async () => {
    const here = withCache(60);
    const other = await h.credentials.createOrganization('Other', { actor: 'cli:test' });
    expect(await here.authenticateAgent(headers)).not.toBeNull();
    const mixed = agentHeaders(acme.agent.userName, acme.agent.serviceKey, other.apiKey);
    expect(await here.authenticateAgent(mixed)).toBeNull();
  });
});
