import type { Store } from '../storage/db/types.js';
import { appendAudit, listAudit } from './audit.js';
import { AGENT_AUTH_CACHE_SECONDS, AgentAuthCache } from './auth-cache.js';
import { authenticateAgent, authenticatePersonal, verifiedApiKeyOrg } from './authenticate.js';
import { type CredentialsContext, silentLogger } from './context.js';
import { type SealedSecret, seal, unseal } from './envelope.js';
import type { MasterKeyring } from './keyring.js';
import { getKeys, keyForVersion, personalServiceKey } from './keys-view.js';
import { createOrganization, findOrganization, toOrganization } from './organizations.js';
import { checkMasterKeys, masterKeyUsage, rewrap } from './rewrap.js';
import { endGrace, rotateKey } from './rotation.js';
import type {
  Actor,
  AddedUser,
  AgentPrincipal,
  AuditPage,
  CreatedOrganization,
  EndGraceResult,
  HeaderBag,
  Logger,
  Member,
  NewAuditEntry,
  NewUser,
  Organization,
  OrgKeys,
  OrgRole,
  PersonalPrincipal,
  RewrapResult,
  RotationResult,
  User,
} from './types.js';
import { addUser, getUser, listMembers, setPassword, verifyPassword } from './users.js';

export interface CredentialsOptions {
  readonly store: Store;
  readonly keyring: MasterKeyring;
  /** Milliseconds since the epoch; tests pass a clock they can move. */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** How long verified agent logins are kept (AgentAuthCache); 0 turns the cache off. Default 5 s. */
  readonly agentAuthCacheSeconds?: number;
}

/**
 * Organizations, users and their keys: the one door to secrets. Plaintext keys leave only
 * through createOrganization, addUser, rotateKey (the new key), getKeys and keyForVersion.
 */
export class Credentials {
  private readonly ctx: CredentialsContext;
  private readonly agentLogins: AgentAuthCache;

  constructor(options: CredentialsOptions) {
    this.ctx = {
      store: options.store,
      keyring: options.keyring,
      now: options.now ?? Date.now,
      log: options.logger ?? silentLogger,
    };
    this.agentLogins = new AgentAuthCache((options.agentAuthCacheSeconds ?? AGENT_AUTH_CACHE_SECONDS) * 1000);
  }

  createOrganization(name: string, options: { slug?: string; actor: Actor }): Promise<CreatedOrganization> {
    return createOrganization(this.ctx, name, options);
  }

  /** By id (UUID) or slug; null when there is none. */
  async getOrganization(ref: string): Promise<Organization | null> {
    const row = await findOrganization(this.ctx.store, ref);
    return row === undefined ? null : toOrganization(row);
  }

  async listOrganizations(): Promise<Organization[]> {
    return (await this.ctx.store.listOrganizations()).map(toOrganization);
  }

  addUser(user: NewUser, actor: Actor): Promise<AddedUser> {
    return addUser(this.ctx, user, actor);
  }

  /** By id or e-mail; null when there is none. */
  getUser(ref: string): Promise<User | null> {
    return getUser(this.ctx, ref);
  }

  async roleIn(userId: string, orgId: string): Promise<OrgRole | null> {
    return (await this.ctx.store.findMembership(userId, orgId))?.role ?? null;
  }

  listMembers(orgId: string): Promise<Member[]> {
    return listMembers(this.ctx, orgId);
  }

  verifyPassword(email: string, password: string): Promise<User | null> {
    return verifyPassword(this.ctx, email, password);
  }

  setPassword(userId: string, password: string, actor: Actor): Promise<void> {
    return setPassword(this.ctx, userId, password, actor);
  }

  getKeys(orgId: string, options?: { viewedBy?: Actor }): Promise<OrgKeys> {
    return getKeys(this.ctx, orgId, options);
  }

  keyForVersion(orgId: string, which: string, version: number): Promise<string | null> {
    return keyForVersion(this.ctx, orgId, which, version);
  }

  /** The user's current personal service key in plaintext, or null when there is none. */
  personalServiceKey(userId: string): Promise<string | null> {
    return personalServiceKey(this.ctx, userId);
  }

  /** Also forgets the agent logins this instance verified, so an ended key stops working here at once. */
  async rotateKey(orgId: string, which: string, graceSeconds: number, actor: Actor): Promise<RotationResult> {
    this.agentLogins.clear();
    try {
      return await rotateKey(this.ctx, orgId, which, graceSeconds, actor);
    } finally {
      this.agentLogins.clear();
    }
  }

  async endGrace(orgId: string, which: string, actor: Actor): Promise<EndGraceResult> {
    this.agentLogins.clear();
    try {
      return await endGrace(this.ctx, orgId, which, actor);
    } finally {
      this.agentLogins.clear();
    }
  }

  authenticateAgent(headers: HeaderBag): Promise<AgentPrincipal | null> {
    return authenticateAgent(this.ctx, headers, this.agentLogins);
  }

  authenticatePersonal(headers: HeaderBag): Promise<PersonalPrincipal | null> {
    return authenticatePersonal(this.ctx, headers);
  }

  /** The organization whose valid API key `headers` carry, else null (see authenticate.ts). */
  verifiedApiKeyOrg(headers: HeaderBag): Promise<string | null> {
    return verifiedApiKeyOrg(this.ctx, headers);
  }

  async audit(entry: NewAuditEntry): Promise<number> {
    return appendAudit(this.ctx.store, this.ctx.now(), entry);
  }

  /** Newest first. `orgId` null lists system-wide entries (rewrap, password changes). */
  listAudit(orgId: string | null, page?: { limit?: number; before?: number }): Promise<AuditPage> {
    return listAudit(this.ctx.store, orgId, page);
  }

  rewrap(actor: Actor): Promise<RewrapResult> {
    return rewrap(this.ctx, actor);
  }

  masterKeyUsage(): Promise<Map<string, number>> {
    return masterKeyUsage(this.ctx);
  }

  checkMasterKeys(): Promise<void> {
    return checkMasterKeys(this.ctx);
  }

  /**
   * Seals a secret that belongs to an organization but is not one of its keys (e.g. bundle
   * render settings holding a proxy password): AES-256-GCM bound to org and purpose.
   */
  sealOrgSecret(orgId: string, purpose: string, plaintext: string): SealedSecret {
    return seal(this.ctx.keyring, plaintext, { ownerId: orgId, purpose, version: 0 });
  }

  unsealOrgSecret(orgId: string, purpose: string, record: SealedSecret): string {
    return unseal(this.ctx.keyring, record, { ownerId: orgId, purpose, version: 0 });
  }

  get currentMasterKeyId(): string {
    return this.ctx.keyring.currentId;
  }
}
