/**
 * What the service needs besides organizations and keys, shared by every instance: login
 * sessions and sealed system secrets (the signing keyring and the link key in scale-out mode).
 * Kept apart from the metadata store's interface so the HTTP layer can evolve it on its own;
 * it lives in the same database (its own tables and migration history).
 */
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

export interface SystemStore {
  readonly kind: 'sqlite' | 'postgres';

  insertSession(row: SessionRow): Promise<void>;
  findSession(idHash: string): Promise<SessionRow | undefined>;
  /** True when a session was removed. */
  deleteSession(idHash: string): Promise<boolean>;
  /** Removes sessions that expired at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>;

  findSecret(name: string): Promise<SecretRow | undefined>;
  /** Inserts unless the name exists; true when this call inserted (the race winner). */
  insertSecretIfAbsent(row: SecretRow): Promise<boolean>;
  /** Replaces the row only while it still has `expectedRevision`; false when someone else won. */
  replaceSecret(row: SecretRow, expectedRevision: number): Promise<boolean>;

  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
