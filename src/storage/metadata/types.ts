import type { CatalogOps } from './catalog-types.js';

/**
 * The metadata store: organizations, users, memberships, key versions and the audit log.
 * A narrow, driver-free interface; SQLite and PostgreSQL implement it and pass one contract
 * suite. Times are milliseconds since the epoch. Secrets never arrive here in plaintext:
 * key versions hold a digest and a sealed (encrypted) copy.
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

/** Every read and write; inside `transaction` the same methods run in one transaction. */
export interface MetadataOps {
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

export interface MetadataStore extends MetadataOps {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data lives, without credentials: a file path or `postgres://host:port/db`. */
  readonly location: string;
  /** Runs `work` in one transaction: all of its writes land, or none (the error is rethrown). */
  transaction<T>(work: (ops: MetadataOps) => Promise<T>): Promise<T>;
  /** Base agents and built bundles (src/storage/metadata/catalog-ops.ts). */
  readonly catalog: CatalogOps;
  close(): Promise<void>;
}

export type MetadataTarget = { readonly dataDir: string } | { readonly databaseUrl: string };
