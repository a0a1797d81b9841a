import { NotFoundError } from '../common/errors.js';
import { appendAudit } from './audit.js';
import type { CredentialsContext } from './context.js';
import { isoTime } from './context.js';
import { checkWhich, currentVersion, isValid, plaintextOf } from './key-versions.js';
import { agentUserName } from './names.js';
import type { Actor, OrgKeys, PendingExpiry } from './types.js';

/**
 * The organization's current keys in plaintext, their versions and the previous versions
 * still in a grace period. With `viewedBy`, the look is audited (`key.viewed`); bundle
 * rendering reads without it.
 */
export async function getKeys(
  ctx: CredentialsContext,
  orgId: string,
  options: { viewedBy?: Actor } = {},
): Promise<OrgKeys> {
  const org = await ctx.store.findOrganizationById(orgId);
  if (org === undefined) throw new NotFoundError(`no organization ${orgId}`);
  const now = ctx.now();
  const api = await currentVersion(ctx.store, orgId, 'api-key');
  const agent = await currentVersion(ctx.store, orgId, 'agent-service-key');
  const expiries: PendingExpiry[] = [
    ...pending('api-key', api.older, now),
    ...pending('agent-service-key', agent.older, now),
  ].sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  const keys: OrgKeys = {
    orgId,
    slug: org.slug,
    apiKey: plaintextOf(ctx, api.current),
    agent: { userName: agentUserName(orgId, org.slug), serviceKey: plaintextOf(ctx, agent.current) },
    versions: { apiKey: api.current.version, agentServiceKey: agent.current.version },
    keyIds: { apiKey: api.current.keyId, agentServiceKey: agent.current.keyId },
    expiries,
  };
  if (options.viewedBy !== undefined) {
    await appendAudit(ctx.store, now, {
      orgId,
      actor: options.viewedBy,
      action: 'key.viewed',
      keyId: null,
      detail: { ...keys.keyIds },
    });
  }
  return keys;
}

function pending(
  which: PendingExpiry['which'],
  older: { version: number; keyId: string; expiresAt: number | null }[],
  now: number,
): PendingExpiry[] {
  return older
    .filter((row) => row.expiresAt !== null && row.expiresAt > now)
    .map((row) => ({
      which,
      version: row.version,
      keyId: row.keyId,
      expiresAt: isoTime(row.expiresAt ?? now),
    }));
}

/** The plaintext of one version while it is valid (current or in grace); null otherwise. */
export async function keyForVersion(
  ctx: CredentialsContext,
  orgId: string,
  whichText: string,
  version: number,
): Promise<string | null> {
  const which = checkWhich(whichText);
  const rows = await ctx.store.listKeyVersions(orgId, which);
  const row = rows.find((r) => r.version === version);
  return row !== undefined && isValid(row, ctx.now()) ? plaintextOf(ctx, row) : null;
}

/** The user's current personal service key in plaintext (for the sample request), or null. */
export async function personalServiceKey(ctx: CredentialsContext, userId: string): Promise<string | null> {
  const [current] = await ctx.store.listKeyVersions(userId, 'personal-service-key');
  return current !== undefined && isValid(current, ctx.now()) ? plaintextOf(ctx, current) : null;
}
