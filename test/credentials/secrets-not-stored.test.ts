import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_FILE } from '../../src/storage/db/open.js';
import { dumpPostgres, postgresAdminUrl } from '../storage/db/postgres-test-db.js';
import { agentHeaders, createHarness, type Harness, storeKinds } from './harness.js';

/** Every key and every secret part that must not be found, plus the passwords. */
async function createEverything(h: Harness): Promise<string[]> {
  const secrets: string[] = [];
  for (const name of ['Acme', 'Beta', 'Gamma']) {
    const org = await h.credentials.createOrganization(name, { actor: 'cli:test' });
    const rotated = await h.credentials.rotateKey(org.orgId, 'api-key', 3600, 'cli:test');
    const user = await h.credentials.addUser(
      {
        email: `admin@${org.slug}.example.com`,
        orgId: org.orgId,
        role: 'admin',
        password: `pw-${org.slug}-Secret!`,
      },
      'cli:test',
    );
    await h.credentials.getKeys(org.orgId, { viewedBy: 'cli:test' });
    await h.credentials.authenticateAgent(agentHeaders(org.agent.userName, org.agent.serviceKey, org.apiKey));
    await h.credentials.authenticateAgent(
      agentHeaders(org.agent.userName, org.agent.serviceKey, `${org.apiKey}x`),
    );
    secrets.push(
      org.apiKey,
      org.agent.serviceKey,
      rotated.key,
      user.serviceKey ?? '',
      `pw-${org.slug}-Secret!`,
    );
  }
  return secrets.flatMap((key) => [key, ...secretParts(key)]);
}

/** The secret of a key and its key-id-free tail: neither may appear anywhere. */
function secretParts(key: string): string[] {
  const match = /^ap[osu]_[0-9A-Za-z]{12}_([0-9A-Za-z]{24})([0-9A-Za-z]{6})$/.exec(key);
  return match === null ? [] : [match[1] as string, `${match[1]}${match[2]}`];
}

function found(haystack: Buffer, secrets: string[]): string[] {
  return secrets.filter((secret) => haystack.includes(secret, 0, 'utf8'));
}

describe.each(storeKinds)('no plaintext secret is stored or logged (%s)', (kind) => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness(kind);
  });

  afterEach(async () => {
    await h.dispose();
  });

  it('finds no key, secret or password in the database or the log', async () => {
    const secrets = await createEverything(h);
    expect(secrets.length).toBe(3 * 5 + 3 * 4 * 2);
    const log = Buffer.from(h.logs.join('\n'));
    expect(h.logs.length).toBeGreaterThan(5);
    expect(found(log, secrets)).toEqual([]);
    if ('dataDir' in h.target) {
      const file = join(h.target.dataDir, SQLITE_FILE);
      const live = await Promise.all(['', '-wal', '-shm'].map((suffix) => readFile(`${file}${suffix}`)));
      expect(live[1]?.length).toBeGreaterThan(0);
      for (const bytes of live) expect(found(bytes, secrets)).toEqual([]);
      const keyIds = secrets.filter((s) => s.startsWith('ap')).map((key) => key.slice(0, 16));
      await h.store.close();
      // After close every page is in the main file (the live files above may be mid-checkpoint).
      const closed = await readFile(file);
      expect(found(closed, secrets)).toEqual([]);
      expect(found(closed, keyIds)).toEqual(keyIds); // the search does see what is there
    } else {
      expect(postgresAdminUrl).toBeDefined();
      const dump = await dumpPostgres(h.target.databaseUrl);
      expect(dump).toContain('key_versions');
      expect(dump).toContain(secrets[0]?.slice(0, 16)); // the search does see what is there
      expect(found(Buffer.from(dump), secrets)).toEqual([]);
    }
  });
});
