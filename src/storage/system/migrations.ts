import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { InternalError } from '../../common/errors.js';

/**
 * This module's own migration history (table `agentpack_system_migration`), separate from the
 * metadata store's, so both can add versions without coordinating names. Never edit a shipped
 * migration: add the next.
 */
const MIGRATIONS: Record<string, Migration> = {
  system_0001_sessions_and_secrets: { up: sessionsAndSecrets },
};

export const SYSTEM_MIGRATION_TABLE = 'agentpack_system_migration';

async function sessionsAndSecrets(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('http_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('http_sessions_expires_at')
    .on('http_sessions')
    .columns(['expires_at'])
    .execute();
  await db.schema
    .createTable('system_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function migrateSystemTables(db: Kysely<unknown>): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: SYSTEM_MIGRATION_TABLE,
    migrationLockTableName: `${SYSTEM_MIGRATION_TABLE}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new InternalError('MIGRATION_FAILED', `database migration ${failed} failed`, {
      cause: error,
    });
  }
}
