import { join } from 'node:path';
import type { MetadataStore, MetadataTarget } from './types.js';

export const SQLITE_FILE = 'agentpack.db';

/**
 * Opens the metadata store and applies pending migrations. `{ dataDir }` is the embedded
 * SQLite file `<dataDir>/agentpack.db`; `{ databaseUrl }` is PostgreSQL. Only the chosen
 * driver is loaded.
 */
export async function openMetadataStore(target: MetadataTarget): Promise<MetadataStore> {
  if ('databaseUrl' in target) {
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore(target.databaseUrl);
  }
  const { openSqliteStore } = await import('./sqlite.js');
  return openSqliteStore(join(target.dataDir, SQLITE_FILE));
}
