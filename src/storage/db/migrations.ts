import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { InternalError } from '../../common/errors.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * The one migration list of the one store, applied in name order at open (Kysely's table
 * `kysely_migration`). Never edit one that has shipped: add the next. Column types are chosen
 * to mean the same in SQLite and PostgreSQL.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': { up: (db) => initial(db, dialect) },
    '0003_catalog': { up: (db) => catalog(db) },
    '0004_sessions_and_secrets': { up: (db) => sessionsAndSecrets(db) },
  };
}

async function initial(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text')
    .addColumn('system_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('memberships')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'member')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('memberships_pk', ['user_id', 'org_id'])
    .execute();
  await db.schema.createIndex('memberships_org').on('memberships').columns(['org_id']).execute();
  await db.schema
    .createTable('key_versions')
    .addColumn('key_id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addUniqueConstraint('key_versions_owner_purpose_version', ['owner_id', 'purpose', 'version'])
    .execute();
  await db.schema
    .createTable('audit_log')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('org_id', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_log_org_id').on('audit_log').columns(['org_id', 'id']).execute();
}

/** 0003_catalog: base agents and built bundles (no bytes, no plaintext secrets). */
async function catalog(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agent_versions')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('entry_count', 'integer', (c) => c.notNull())
    .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
    .addColumn('uploaded_by', 'text', (c) => c.notNull())
    .addColumn('withdrawn_at', 'bigint')
    .addPrimaryKeyConstraint('agent_versions_pk', ['kind', 'version'])
    .execute();
  await db.schema
    .createTable('bundles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('base_sha256', 'text', (c) => c.notNull())
    .addColumn('key_versions', 'text', (c) => c.notNull())
    .addColumn('settings_sealed', 'text', (c) => c.notNull())
    .addColumn('settings_master_key_id', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('statement', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('bundles_org').on('bundles').columns(['org_id', 'kind', 'version']).execute();
}

/**
 * 0004: login sessions and sealed system secrets. Data directories and databases made before
 * the stores were one already hold these tables, created by a separate migrator with its own
 * history table; they are kept as they are.
 */
async function sessionsAndSecrets(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('http_sessions')
    .ifNotExists()
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('http_sessions_expires_at')
    .ifNotExists()
    .on('http_sessions')
    .columns(['expires_at'])
    .execute();
  await db.schema
    .createTable('system_secrets')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('master_key_id', 'text', (c) => c.notNull())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // Their own migration history is folded into this list.
  await db.schema.dropTable(`${OLD_SYSTEM_MIGRATION_TABLE}_lock`).ifExists().execute();
  await db.schema.dropTable(OLD_SYSTEM_MIGRATION_TABLE).ifExists().execute();
}

const OLD_SYSTEM_MIGRATION_TABLE = 'agentpack_system_migration';

/** Brings the schema to the latest version; fails with the name of the migration that broke. */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new InternalError('MIGRATION_FAILED', `database migration ${failed} failed`, {
      cause: error,
    });
  }
}
