import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { SQLITE_FILE } from '../metadata/open.js';
import type { MetadataTarget } from '../metadata/types.js';
import { KyselySystemStore } from './kysely-store.js';
import { migrateSystemTables } from './migrations.js';
import type { SystemDatabase } from './schema.js';
import type { SystemStore } from './types.js';

/**
 * Opens the system tables in the same database as the metadata store (the SQLite file in the
 * data directory, or `DATABASE_URL`) and applies this module's migrations. Only the chosen
 * driver is loaded.
 */
export async function openSystemStore(target: MetadataTarget): Promise<SystemStore> {
  if ('databaseUrl' in target) {
    const { connectPostgres } = await import('./postgres.js');
    return migrated(connectPostgres(target.databaseUrl), 'postgres');
  }
  const { connectSqlite } = await import('./sqlite.js');
  const { db, serving } = await connectSqlite(join(target.dataDir, SQLITE_FILE));
  const store = await migrated(db, 'sqlite');
  serving();
  return store;
}

async function migrated(db: Kysely<SystemDatabase>, kind: 'sqlite' | 'postgres'): Promise<SystemStore> {
  try {
    await migrateSystemTables(db as Kysely<unknown>);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselySystemStore(db, kind);
}
