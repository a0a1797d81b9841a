import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/common/errors.js';
import { openStore } from '../../../src/storage/db/open.js';
import { describeUrl } from '../../../src/storage/db/postgres.js';
import { metadataStoreContract } from './contract.js';
import { createTestDatabase, describePostgres } from './postgres-test-db.js';

describePostgres('PostgreSQL metadata store', (adminUrl) => {
  metadataStoreContract({
    async create() {
      const database = await createTestDatabase(adminUrl);
      return { target: { databaseUrl: database.url }, dispose: () => database.drop() };
    },
  });

  it('describes its location without the user name or password', async () => {
    const database = await createTestDatabase(adminUrl);
    try {
      const store = await openStore({ databaseUrl: database.url });
      expect(store.kind).toBe('postgres');
      expect(store.location).not.toContain('@');
      expect(store.location).toMatch(/^postgres:\/\/[^/]+\/agentpack_test_[0-9a-f]+$/);
      await store.close();
    } finally {
      await database.drop();
    }
  });
});

describe('DATABASE_URL checks', () => {
  it('refuses a URL that is not postgres://, naming the scheme found but no secret', () => {
    expect(() => describeUrl('mysql://root:hunter2@db/x')).toThrow(ConfigError);
    expect(() => describeUrl('mysql://root:hunter2@db/x')).toThrow(/found mysql:\/\/$/);
    expect(() => describeUrl('not a url hunter2')).toThrow(/^DATABASE_URL must be a URL like/);
  });
});
