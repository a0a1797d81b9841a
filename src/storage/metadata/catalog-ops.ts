import type { Kysely } from 'kysely';
import type { AgentVersionRow, BundleRow, CatalogOps } from './catalog-types.js';
import { conflictAs } from './driver-errors.js';

/** Tables added by migration 0003_catalog (snake_case columns). */
export interface CatalogDatabase {
  agent_versions: {
    kind: string;
    version: string;
    sha256: string;
    size: number;
    blob_key: string;
    entry_count: number;
    uploaded_at: number;
    uploaded_by: string;
    withdrawn_at: number | null;
  };
  bundles: {
    id: string;
    org_id: string;
    kind: string;
    version: string;
    base_sha256: string;
    key_versions: string;
    settings_sealed: string;
    settings_master_key_id: string;
    sha256: string;
    size: number;
    file_name: string;
    statement: string;
    signature: string;
    created_at: number;
  };
}

type Db = Kysely<CatalogDatabase>;

export class KyselyCatalogOps implements CatalogOps {
  constructor(private readonly db: Db) {}

  async insertAgentVersion(row: AgentVersionRow): Promise<void> {
    await conflictAs(`agent ${row.kind} version ${row.version} is already in the catalog`, () =>
      this.db
        .insertInto('agent_versions')
        .values({
          kind: row.kind,
          version: row.version,
          sha256: row.sha256,
          size: row.size,
          blob_key: row.blobKey,
          entry_count: row.entryCount,
          uploaded_at: row.uploadedAt,
          uploaded_by: row.uploadedBy,
          withdrawn_at: row.withdrawnAt,
        })
        .execute(),
    );
  }

  async findAgentVersion(kind: string, version: string): Promise<AgentVersionRow | undefined> {
    const row = await this.db
      .selectFrom('agent_versions')
      .selectAll()
      .where('kind', '=', kind)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toAgentVersion(row);
  }

  async listAgentVersions(kind?: string): Promise<AgentVersionRow[]> {
    let query = this.db.selectFrom('agent_versions').selectAll();
    if (kind !== undefined) query = query.where('kind', '=', kind);
    return (await query.orderBy('kind').orderBy('uploaded_at').execute()).map(toAgentVersion);
  }

  async setAgentVersionWithdrawn(
    kind: string,
    version: string,
    withdrawnAt: number | null,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('agent_versions')
      .set({ withdrawn_at: withdrawnAt })
      .where('kind', '=', kind)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async insertBundles(rows: readonly BundleRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('bundles')
      .values(
        rows.map((row) => ({
          id: row.id,
          org_id: row.orgId,
          kind: row.kind,
          version: row.version,
          base_sha256: row.baseSha256,
          key_versions: row.keyVersions,
          settings_sealed: row.settingsSealed,
          settings_master_key_id: row.settingsMasterKeyId,
          sha256: row.sha256,
          size: row.size,
          file_name: row.fileName,
          statement: row.statement,
          signature: row.signature,
          created_at: row.createdAt,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async findBundle(id: string): Promise<BundleRow | undefined> {
    const row = await this.db.selectFrom('bundles').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toBundle(row);
  }

  async listBundles(filter: { orgId?: string; kind?: string; version?: string } = {}): Promise<BundleRow[]> {
    let query = this.db.selectFrom('bundles').selectAll();
    if (filter.orgId !== undefined) query = query.where('org_id', '=', filter.orgId);
    if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    if (filter.version !== undefined) query = query.where('version', '=', filter.version);
    return (await query.orderBy('created_at').orderBy('id').execute()).map(toBundle);
  }

  async setBundleSettingsSealed(id: string, masterKeyId: string, sealed: string): Promise<void> {
    await this.db
      .updateTable('bundles')
      .set({ settings_sealed: sealed, settings_master_key_id: masterKeyId })
      .where('id', '=', id)
      .execute();
  }

  async deleteBundles(ids: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const result = await this.db
        .deleteFrom('bundles')
        .where('id', 'in', ids.slice(i, i + 500))
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  }
}

function toAgentVersion(row: CatalogDatabase['agent_versions']): AgentVersionRow {
  return {
    kind: row.kind,
    version: row.version,
    sha256: row.sha256,
    size: Number(row.size),
    blobKey: row.blob_key,
    entryCount: Number(row.entry_count),
    uploadedAt: Number(row.uploaded_at),
    uploadedBy: row.uploaded_by,
    withdrawnAt: row.withdrawn_at === null ? null : Number(row.withdrawn_at),
  };
}

function toBundle(row: CatalogDatabase['bundles']): BundleRow {
  return {
    id: row.id,
    orgId: row.org_id,
    kind: row.kind,
    version: row.version,
    baseSha256: row.base_sha256,
    keyVersions: row.key_versions,
    settingsSealed: row.settings_sealed,
    settingsMasterKeyId: row.settings_master_key_id,
    sha256: row.sha256,
    size: Number(row.size),
    fileName: row.file_name,
    statement: row.statement,
    signature: row.signature,
    createdAt: Number(row.created_at),
  };
}
