import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, SQLITE_FILE } from '../../../src/storage/db/open.js';
import { metadataStoreContract } from './contract.js';

describe('SQLite metadata store', () => {
  metadataStoreContract({
    async create() {
      const dataDir = await mkdtemp(join(tmpdir(), 'agentpack-meta-'));
      return { target: { dataDir }, dispose: () => rm(dataDir, { recursive: true, force: true }) };
    },
  });

  it('keeps its data in agentpack.db (mode 0600) inside the data directory, creating the directory', async () => {
    const root = await mkdtemp(join(tmpdir(), 'agentpack-meta-'));
    try {
      const dataDir = join(root, 'nested', 'data');
      const store = await openStore({ dataDir });
      expect(store.kind).toBe('sqlite');
      expect(store.location).toBe(join(dataDir, SQLITE_FILE));
      await store.insertOrganization({ id: 'o1', name: 'A', slug: 'a', createdAt: 1 });
      for (const suffix of ['', '-wal', '-shm']) {
        expect((await stat(join(dataDir, `${SQLITE_FILE}${suffix}`))).mode & 0o777, suffix).toBe(0o600);
      }
      await store.close();
      expect((await stat(join(dataDir, SQLITE_FILE))).isFile()).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
