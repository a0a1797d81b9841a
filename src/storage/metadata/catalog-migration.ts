import type { Kysely } from 'kysely';

/** 0003_catalog: base agents and built bundles (no bytes, no plaintext secrets). */
export async function catalogMigration(db: Kysely<unknown>): Promise<void> {
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
