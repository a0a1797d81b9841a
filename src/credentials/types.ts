import { KEY_PURPOSES, type KeyPurposeName } from '../common/validate.js';
import type { OrgRole } from '../storage/db/types.js';

export type { OrgRole };

/** The two organization keys an admin can rotate (the names used in URLs and on the CLI). */
export type KeyWhich = KeyPurposeName;
export const KEY_WHICH: readonly KeyWhich[] = KEY_PURPOSES;

/**
 * Who did something, as shown in the audit log: a short display string such as
 * `user:alice@example.com`, `cli:root` or `system`. Never a secret.
 */
export type Actor = string;

/** pino-compatible subset (Fastify's `app.log` fits). Nothing secret is ever passed to it. */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export interface Organization {
  readonly orgId: string;
  readonly name: string;
  readonly slug: string;
  /** `agent_<orgId>@<slug>` */
  readonly agentUserName: string;
  readonly createdAt: string;
}

/** Returned once, by createOrganization: the only time the caller is handed the new keys. */
export interface CreatedOrganization {
  readonly orgId: string;
  readonly name: string;
  readonly slug: string;
  readonly apiKey: string;
  readonly agent: { readonly userName: string; readonly serviceKey: string };
  readonly keyIds: KeyPair<string>;
  readonly versions: KeyPair<number>;
}

export interface KeyPair<T> {
  readonly apiKey: T;
  readonly agentServiceKey: T;
}

/** A previous version still valid until `expiresAt` (ISO-8601 UTC). */
export interface PendingExpiry {
  readonly which: KeyWhich;
  readonly version: number;
  readonly keyId: string;
  readonly expiresAt: string;
}

/** The current keys of an organization, for the UI and for rendering bundles. */
export interface OrgKeys {
  readonly orgId: string;
  readonly slug: string;
  readonly apiKey: string;
  readonly agent: { readonly userName: string; readonly serviceKey: string };
  /** Bundles are addressed by these: a new version means a new bundle. */
  readonly versions: KeyPair<number>;
  readonly keyIds: KeyPair<string>;
  /** Previous versions in their grace period, soonest expiry first. */
  readonly expiries: PendingExpiry[];
}

export interface RotationResult {
  readonly orgId: string;
  readonly which: KeyWhich;
  readonly version: number;
  readonly keyId: string;
  /** The new key's plaintext. */
  readonly key: string;
  readonly previous: { readonly version: number; readonly keyId: string; readonly expiresAt: string };
  /** Versions whose grace period this rotation cut short (at most one). */
  readonly ended: { readonly version: number; readonly keyId: string }[];
}

export interface EndGraceResult {
  readonly orgId: string;
  readonly which: KeyWhich;
  readonly ended: { readonly version: number; readonly keyId: string }[];
}

export interface NewUser {
  readonly email: string;
  readonly orgId: string;
  readonly role: OrgRole;
  /** Omitted: the user has no password and signs in with the personal service key only. */
  readonly password?: string;
  readonly systemAdmin?: boolean;
}

export interface AddedUser {
  readonly userId: string;
  readonly email: string;
  readonly orgId: string;
  readonly role: OrgRole;
  /** False when an existing user joined another organization (no new key then). */
  readonly created: boolean;
  /** The personal service key, only when the user was created. */
  readonly serviceKey: string | null;
  readonly serviceKeyId: string | null;
}

export interface User {
  readonly userId: string;
  readonly email: string;
  readonly systemAdmin: boolean;
  readonly hasPassword: boolean;
  readonly memberships: { readonly orgId: string; readonly role: OrgRole }[];
}

export interface Member {
  readonly userId: string;
  readonly email: string;
  readonly role: OrgRole;
  readonly systemAdmin: boolean;
}

export interface AgentPrincipal {
  readonly kind: 'agent';
  readonly orgId: string;
  readonly orgSlug: string;
  readonly userName: string;
  readonly keyIds: KeyPair<string>;
  readonly versions: KeyPair<number>;
}

export interface PersonalPrincipal {
  readonly kind: 'personal';
  readonly userId: string;
  readonly email: string;
  /** The organization whose API key came with the request. */
  readonly orgId: string;
  /** Null for a system admin who is not a member of that organization. */
  readonly role: OrgRole | null;
  readonly systemAdmin: boolean;
  readonly keyIds: { readonly apiKey: string; readonly serviceKey: string };
}

/** Request headers as Node gives them (lower-case names). */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface NewAuditEntry {
  readonly orgId: string | null;
  readonly actor: Actor;
  /** Free text, dotted: `key.viewed`, `key.rotated`, `bundle.downloaded`, ... */
  readonly action: string;
  readonly keyId?: string | null;
  readonly detail?: Readonly<Record<string, string | number | boolean | null | readonly string[]>> | null;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly orgId: string | null;
  readonly actor: Actor;
  readonly action: string;
  readonly keyId: string | null;
  readonly detail: Record<string, unknown> | null;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  /** Pass as `before` for the next (older) page; null at the end. */
  readonly nextBefore: number | null;
}

export interface RewrapResult {
  readonly masterKeyId: string;
  readonly rewrapped: number;
}
