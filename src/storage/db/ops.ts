import type { Kysely, Selectable } from 'kysely';
import { conflictAs } from './driver-errors.js';
import type { Database } from './schema.js';
import type {
  AgentVersionRow,
  AuditRow,
  BundleRow,
  KeyVersionRow,
  MemberRow,
  MembershipRow,
  NewAuditRow,
  OrganizationRow,
  OrgRole,
  SecretRow,
  SessionRow,
  StoreOps,
  UserRow,
} from './types.js';

type Db = Kysely<Database>;

/** Every query of the store over Kysely: the same for SQLite and PostgreSQL, on a database or a transaction. */
export class KyselyOps implements StoreOps {
  constructor(protected readonly db: Db) {}

  async insertOrganization(row: OrganizationRow): Promise<void> {
    await conflictAs(`organization slug '${row.slug}' is already taken`, () =>
      this.db
        .insertInto('organizations')
        .values({ id: row.id, name: row.name, slug: row.slug, created_at: row.createdAt })
        .execute(),
    );
  }

  async findOrganizationById(id: string): Promise<OrganizationRow | undefined> {
    const row = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toOrganization(row);
  }

  async findOrganizationBySlug(slug: string): Promise<OrganizationRow | undefined> {
    const row = await this.db
      .selectFrom('organizations')
      .selectAll()
      .where('slug', '=', slug)
      .executeTakeFirst();
    return row && toOrganization(row);
  }

  async listOrganizations(): Promise<OrganizationRow[]> {
    const rows = await this.db
      .selectFrom('organizations')
      .selectAll()
      .orderBy('name')
      .orderBy('id')
      .execute();
    return rows.map(toOrganization);
  }

  async lockOrganization(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('organizations')
      .set((eb) => ({ revision: eb('revision', '+', 1) }))
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async insertUser(row: UserRow): Promise<void> {
    await conflictAs(`a user with e-mail ${row.email} already exists`, () =>
      this.db
        .insertInto('users')
        .values({
          id: row.id,
          email: row.email,
          password_hash: row.passwordHash,
          system_admin: row.systemAdmin ? 1 : 0,
          created_at: row.createdAt,
        })
        .execute(),
    );
  }

  async findUserById(id: string): Promise<UserRow | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserByEmail(email: string): Promise<UserRow | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row && toUser(row);
  }

  async setPasswordHash(userId: string, passwordHash: string | null): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('id', '=', userId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async insertMembership(row: MembershipRow): Promise<void> {
    await conflictAs(`user ${row.userId} is already a member of organization ${row.orgId}`, () =>
      this.db
        .insertInto('memberships')
        .values({ user_id: row.userId, org_id: row.orgId, role: row.role, created_at: row.createdAt })
        .execute(),
    );
  }

  async findMembership(userId: string, orgId: string): Promise<MembershipRow | undefined> {
    const row = await this.db
      .selectFrom('memberships')
      .selectAll()
      .where('user_id', '=', userId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row && toMembership(row);
  }

  async listMembers(orgId: string): Promise<MemberRow[]> {
    const rows = await this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .selectAll('users')
      .select('memberships.role')
      .where('memberships.org_id', '=', orgId)
      .orderBy('users.email')
      .execute();
    return rows.map((row) => ({ user: toUser(row), role: row.role as OrgRole }));
  }

  async listMemberships(userId: string): Promise<MembershipRow[]> {
    const rows = await this.db
      .selectFrom('memberships')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('org_id')
      .execute();
    return rows.map(toMembership);
  }

  async insertKeyVersion(row: KeyVersionRow): Promise<void> {
    await conflictAs(`version ${row.version} of the ${row.purpose} of ${row.ownerId} already exists`, () =>
      this.db
        .insertInto('key_versions')
        .values({
          key_id: row.keyId,
          owner_id: row.ownerId,
          purpose: row.purpose,
          version: row.version,
          digest: row.digest,
          master_key_id: row.masterKeyId,
          sealed: row.sealed,
          created_at: row.createdAt,
          expires_at: row.expiresAt,
        })
        .execute(),
    );
  }

  async findKeyVersions(keyIds: readonly string[]): Promise<KeyVersionRow[]> {
    if (keyIds.length === 0) return [];
    const rows = await this.db.selectFrom('key_versions').selectAll().where('key_id', 'in', keyIds).execute();
    return rows.map(toKeyVersion);
  }

  async listKeyVersions(ownerId: string, purpose: string): Promise<KeyVersionRow[]> {
    const rows = await this.db
      .selectFrom('key_versions')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .where('purpose', '=', purpose)
      .orderBy('version', 'desc')
      .execute();
    return rows.map(toKeyVersion);
  }

  async setKeyExpiry(keyId: string, expiresAt: number | null): Promise<boolean> {
    const result = await this.db
      .updateTable('key_versions')
      .set({ expires_at: expiresAt })
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async listKeyVersionsNotSealedBy(masterKeyId: string): Promise<KeyVersionRow[]> {
    const rows = await this.db
      .selectFrom('key_versions')
      .selectAll()
      .where('master_key_id', '<>', masterKeyId)
      .orderBy('key_id')
      .execute();
    return rows.map(toKeyVersion);
  }

  async setSealed(keyId: string, masterKeyId: string, sealed: string): Promise<boolean> {
    const result = await this.db
      .updateTable('key_versions')
      .set({ master_key_id: masterKeyId, sealed })
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async countByMasterKey(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('key_versions')
      .select((eb) => ['master_key_id', eb.fn.countAll<number | string>().as('count')])
      .groupBy('master_key_id')
      .execute();
    return new Map(rows.map((row) => [row.master_key_id, Number(row.count)]));
  }

  async appendAudit(row: NewAuditRow): Promise<number> {
    const inserted = await this.db
      .insertInto('audit_log')
      .values({
        at: row.at,
        org_id: row.orgId,
        actor: row.actor,
        action: row.action,
        key_id: row.keyId,
        detail: row.detail,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(inserted.id);
  }

  async listAudit(orgId: string | null, page: { limit: number; before?: number }): Promise<AuditRow[]> {
    let query = this.db.selectFrom('audit_log').selectAll();
    query = orgId === null ? query.where('org_id', 'is', null) : query.where('org_id', '=', orgId);
    if (page.before !== undefined) query = query.where('id', '<', page.before);
    const rows = await query.orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toAudit);
  }

  // Catalog: base agents and built bundles.

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

  // Login sessions and sealed system secrets.

  async insertSession(row: SessionRow): Promise<void> {
    await this.db
      .insertInto('http_sessions')
      .values({
        id_hash: row.idHash,
        user_id: row.userId,
        created_at: row.createdAt,
        expires_at: row.expiresAt,
      })
      .execute();
  }

  async findSession(idHash: string): Promise<SessionRow | undefined> {
    const row = await this.db
      .selectFrom('http_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return row && toSession(row);
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const result = await this.db.deleteFrom('http_sessions').where('id_hash', '=', idHash).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('http_sessions')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async findSecret(name: string): Promise<SecretRow | undefined> {
    const row = await this.db
      .selectFrom('system_secrets')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toSecret(row);
  }

  async insertSecretIfAbsent(row: SecretRow): Promise<boolean> {
    const result = await this.db
      .insertInto('system_secrets')
      .values({
        name: row.name,
        revision: row.revision,
        master_key_id: row.masterKeyId,
        sealed: row.sealed,
        updated_at: row.updatedAt,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async replaceSecret(row: SecretRow, expectedRevision: number): Promise<boolean> {
    const result = await this.db
      .updateTable('system_secrets')
      .set({
        revision: row.revision,
        master_key_id: row.masterKeyId,
        sealed: row.sealed,
        updated_at: row.updatedAt,
      })
      .where('name', '=', row.name)
      .where('revision', '=', expectedRevision)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

function toOrganization(row: Selectable<Database['organizations']>): OrganizationRow {
  return { id: row.id, name: row.name, slug: row.slug, createdAt: Number(row.created_at) };
}

function toUser(row: Selectable<Database['users']>): UserRow {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    systemAdmin: Number(row.system_admin) === 1,
    createdAt: Number(row.created_at),
  };
}

function toMembership(row: Selectable<Database['memberships']>): MembershipRow {
  return {
    userId: row.user_id,
    orgId: row.org_id,
    role: row.role as OrgRole,
    createdAt: Number(row.created_at),
  };
}

function toKeyVersion(row: Selectable<Database['key_versions']>): KeyVersionRow {
  return {
    keyId: row.key_id,
    ownerId: row.owner_id,
    purpose: row.purpose,
    version: Number(row.version),
    digest: row.digest,
    masterKeyId: row.master_key_id,
    sealed: row.sealed,
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  };
}

function toAudit(row: Selectable<Database['audit_log']>): AuditRow {
  return {
    id: Number(row.id),
    at: Number(row.at),
    orgId: row.org_id,
    actor: row.actor,
    action: row.action,
    keyId: row.key_id,
    detail: row.detail,
  };
}

function toAgentVersion(row: Selectable<Database['agent_versions']>): AgentVersionRow {
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

function toBundle(row: Selectable<Database['bundles']>): BundleRow {
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

function toSession(row: Selectable<Database['http_sessions']>): SessionRow {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

function toSecret(row: Selectable<Database['system_secrets']>): SecretRow {
  return {
    name: row.name,
    revision: Number(row.revision),
    masterKeyId: row.master_key_id,
    sealed: row.sealed,
    updatedAt: Number(row.updated_at),
  };
}
