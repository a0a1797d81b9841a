/**
 * The one metadata store: organizations, users, memberships, key versions, the audit log,
 * the catalog (base agents, built bundles), login sessions and sealed system secrets. A
 * narrow, driver-free interface; SQLite and PostgreSQL implement it (src/storage/db/ops.ts)
 * and pass one contract suite (test/storage/db/contract.ts). Times are milliseconds since the
 * epoch. Secrets never arrive here in plaintext: key versions, bundle settings and system
 * secrets are sealed (encrypted), sessions are stored as digests of their ids.
 */
export type OrgRole = 'admin' | 'member';

export interface OrganizationRow {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly createdAt: number;
}

export interface UserRow {
  readonly id: string;
  readonly email: string;
  /** Null for a user who signs in with a personal service key only. */
  readonly passwordHash: string | null;
  readonly systemAdmin: boolean;
  readonly createdAt: number;
}

export interface MembershipRow {
  readonly userId: string;
  readonly orgId: string;
  readonly role: OrgRole;
  readonly createdAt: number;
}

export interface KeyVersionRow {
  /** `<prefix>_<publicId>`: safe to log. */
  readonly keyId: string;
  /** The organization (org keys) or the user (personal keys) the key belongs to. */
  readonly ownerId: string;
  readonly purpose: string;
  readonly version: number;
  /** SHA-256 of the whole key, base64. */
  readonly digest: string;
  readonly masterKeyId: string;
  /** base64(nonce || ciphertext || tag); see credentials/envelope.ts. */
  readonly sealed: string;
  readonly createdAt: number;
  /** Null while current; otherwise the key stops working at this time. */
  readonly expiresAt: number | null;
}

export interface NewAuditRow {
  readonly at: number;
  readonly orgId: string | null;
  readonly actor: string;
  readonly action: string;
  readonly keyId: string | null;
  /** JSON text. */
  readonly detail: string | null;
}

export interface AuditRow extends NewAuditRow {
  readonly id: number;
}

export interface MemberRow {
  readonly user: UserRow;
  readonly role: OrgRole;
}

/** A base agent archive in the catalog. Times are milliseconds since the epoch. */
export interface AgentVersionRow {
  readonly kind: string;
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
  /** Blob store key of the archive. */
  readonly blobKey: string;
  readonly entryCount: number;
  readonly uploadedAt: number;
  readonly uploadedBy: string;
  readonly withdrawnAt: number | null;
}

/**
 * A built bundle: its identity, what it embeds (key versions, not keys), and its digest and
 * signed statement. The bytes are never stored: they are the base's prefix plus a tail rebuilt
 * on demand, so no secret sits in the blob store.
 */
export interface BundleRow {
  readonly id: string;
  readonly orgId: string;
  readonly kind: string;
  readonly version: string;
  readonly baseSha256: string;
  /** JSON of { "api-key": n, "agent-service-key": n }. */
  readonly keyVersions: string;
  /** Render settings (proxy, extra), sealed under the master key: they may hold a proxy password. */
  readonly settingsSealed: string;
  readonly settingsMasterKeyId: string;
  readonly sha256: string;
  readonly size: number;
  readonly fileName: string;
  /** The `.sha256` statement text. */
  readonly statement: string;
  /** base64 of the 64-byte Ed25519 signature. */
  readonly signature: string;
  readonly createdAt: number;
}

export interface SessionRow {
  /** SHA-256 (hex) of the session id; the id itself is only ever in the user's cookie. */
  readonly idHash: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A secret sealed with the master key (see credentials/envelope.ts); `revision` orders updates. */
export interface SecretRow {
  readonly name: string;
  readonly revision: number;
  readonly masterKeyId: string;
  readonly sealed: string;
  readonly updatedAt: number;
}

/** Organizations, users, memberships, key versions and the audit log. */
export interface AccountOps {
  /** ConflictError when the id or slug is taken. */
  insertOrganization(row: OrganizationRow): Promise<void>;
  findOrganizationById(id: string): Promise<OrganizationRow | undefined>;
  findOrganizationBySlug(slug: string): Promise<OrganizationRow | undefined>;
  /** Ordered by name, then id. */
  listOrganizations(): Promise<OrganizationRow[]>;
  /**
   * Takes the organization's write lock for the rest of the transaction (PostgreSQL: row
   * lock; SQLite: the database write lock). False when there is no such organization.
   */
  lockOrganization(id: string): Promise<boolean>;

  /** ConflictError when the id or e-mail is taken. */
  insertUser(row: UserRow): Promise<void>;
  findUserById(id: string): Promise<UserRow | undefined>;
  findUserByEmail(email: string): Promise<UserRow | undefined>;
  setPasswordHash(userId: string, passwordHash: string | null): Promise<boolean>;

  /** ConflictError when the user already belongs to the organization. */
  insertMembership(row: MembershipRow): Promise<void>;
  findMembership(userId: string, orgId: string): Promise<MembershipRow | undefined>;
  /** Members ordered by e-mail. */
  listMembers(orgId: string): Promise<MemberRow[]>;
  listMemberships(userId: string): Promise<MembershipRow[]>;

  /** ConflictError when the key id or (owner, purpose, version) is taken. */
  insertKeyVersion(row: KeyVersionRow): Promise<void>;
  findKeyVersions(keyIds: readonly string[]): Promise<KeyVersionRow[]>;
  /** Newest version first. */
  listKeyVersions(ownerId: string, purpose: string): Promise<KeyVersionRow[]>;
  setKeyExpiry(keyId: string, expiresAt: number | null): Promise<boolean>;
  /** Every key version with `masterKeyId` different from the given one, in key id order. */
  listKeyVersionsNotSealedBy(masterKeyId: string): Promise<KeyVersionRow[]>;
  setSealed(keyId: string, masterKeyId: string, sealed: string): Promise<boolean>;
  /** How many records each master key sealed. */
  countByMasterKey(): Promise<Map<string, number>>;

  appendAudit(row: NewAuditRow): Promise<number>;
  /** Newest first; `before` is an audit id (exclusive). `orgId` null lists system-wide entries. */
  listAudit(orgId: string | null, page: { limit: number; before?: number }): Promise<AuditRow[]>;
}

/** Base agents and built bundles. */
export interface CatalogOps {
  /** ConflictError when the kind already has this version. */
  insertAgentVersion(row: AgentVersionRow): Promise<void>;
  findAgentVersion(kind: string, version: string): Promise<AgentVersionRow | undefined>;
  /** Every version of every kind (or of one), withdrawn ones included. */
  listAgentVersions(kind?: string): Promise<AgentVersionRow[]>;
  setAgentVersionWithdrawn(kind: string, version: string, withdrawnAt: number | null): Promise<boolean>;

  /**
   * One statement, so one commit for all of them. Idempotent: a bundle whose id is already
   * recorded is left as it is (builds are deterministic).
   */
  insertBundles(rows: readonly BundleRow[]): Promise<void>;
  findBundle(id: string): Promise<BundleRow | undefined>;
  listBundles(filter?: { orgId?: string; kind?: string; version?: string }): Promise<BundleRow[]>;
  deleteBundles(ids: readonly string[]): Promise<number>;
  /** Re-sealed render settings (master-key rewrap). */
  setBundleSettingsSealed(id: string, masterKeyId: string, sealed: string): Promise<void>;
}

/** Login sessions (by a digest of their id). */
export interface SessionOps {
  insertSession(row: SessionRow): Promise<void>;
  findSession(idHash: string): Promise<SessionRow | undefined>;
  /** True when a session was removed. */
  deleteSession(idHash: string): Promise<boolean>;
  /** Removes sessions that expired at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>;
}

/** Secrets every instance shares (signing keyring, link key), sealed with the master key. */
export interface SecretOps {
  findSecret(name: string): Promise<SecretRow | undefined>;
  /** Inserts unless the name exists; true when this call inserted (the race winner). */
  insertSecretIfAbsent(row: SecretRow): Promise<boolean>;
  /** Replaces the row only while it still has `expectedRevision`; false when someone else won. */
  replaceSecret(row: SecretRow, expectedRevision: number): Promise<boolean>;
}

/** Every read and write; inside `transaction` the same methods run in one transaction. */
export interface StoreOps extends AccountOps, CatalogOps, SessionOps, SecretOps {}

export interface Store extends StoreOps {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data lives, without credentials: a file path or `postgres://host:port/db`. */
  readonly location: string;
  /** Runs `work` in one transaction: all of its writes land, or none (the error is rethrown). */
  transaction<T>(work: (ops: StoreOps) => Promise<T>): Promise<T>;
  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type StoreTarget = ({ readonly dataDir: string } | { readonly databaseUrl: string }) & {
  /**
   * The longest one call may wait for the database (default 5 s): to connect or get a pooled
   * connection, for a statement, for SQLite's write lock. Past it the call fails with a 503.
   */
  readonly timeoutMs?: number;
};
