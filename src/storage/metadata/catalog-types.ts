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
