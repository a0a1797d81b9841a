import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bootstrap } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { openServices, type Services } from '../src/services.js';
import { createTestDatabase, describePostgres } from './storage/db/postgres-test-db.js';

let root: string;
let services: Services;
let fixtureLoads = 0;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'agentpack-bootstrap-'));
  fixtureLoads = 0;
  services = await openServices(
    loadConfig({ AGENTPACK_DATA_DIR: join(root, 'data'), AGENTPACK_ADMIN_EMAIL: 'Ops@Example.com' }, root),
  );
  const loadFixtures = services.bundles.loadFixtures.bind(services.bundles);
  vi.spyOn(services.bundles, 'loadFixtures').mockImplementation(() => {
    fixtureLoads++;
    return loadFixtures();
  });
});
afterEach(async () => {
  await services.close();
  await rm(root, { recursive: true, force: true });
});

describe('bootstrap', () => {
  it('creates the demo organization and a system admin whose one-time password signs in', async () => {
    const result = await bootstrap(services);
    expect(result.demo).toMatchObject({ created: true, org: { name: 'Demo', slug: 'demo' } });
    expect(result.admin?.email).toBe('ops@example.com');
    const user = await services.credentials.verifyPassword('ops@example.com', result.admin?.password ?? '');
    expect(user).toMatchObject({
      systemAdmin: true,
      memberships: [{ orgId: result.demo.org.orgId, role: 'admin' }],
    });
    expect(fixtureLoads).toBe(1);
  });

  it('changes nothing and reveals no password on later starts, but loads the fixtures again', async () => {
    const first = await bootstrap(services);
    const second = await bootstrap(services);
    expect(second.admin).toBeUndefined();
    expect(second.demo).toEqual({ org: first.demo.org, created: false });
    expect(fixtureLoads).toBe(2);
  });
});

describePostgres('bootstrap scaled out', (adminUrl) => {
  it('creates one admin and one demo organization when two instances start together', async () => {
    const database = await createTestDatabase(adminUrl);
    const config = loadConfig(
      {
        DATABASE_URL: database.url,
        AGENTPACK_MASTER_KEY: randomBytes(32).toString('base64'),
        AGENTPACK_DATA_DIR: join(root, 'x'),
      },
      root,
    );
    const [a, b] = await Promise.all([openServices(config), openServices(config)]);
    try {
      const results = await Promise.all([bootstrap(a), bootstrap(b)]);
      expect(results.filter((r) => r.admin !== undefined)).toHaveLength(1);
      expect(results[0]?.demo.org.orgId).toBe(results[1]?.demo.org.orgId);
      expect((await a.credentials.listOrganizations()).map((o) => o.slug)).toEqual(['demo']);
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
