import { randomUUID } from 'node:crypto';
import { UsageError } from '../common/errors.js';
import { isOrgId } from '../common/validate.js';
import type { OrganizationRow, StoreOps } from '../storage/db/types.js';
import { appendAudit } from './audit.js';
import { type CredentialsContext, isoTime } from './context.js';
import { mintVersion } from './key-versions.js';
import { agentUserName, checkOrganizationName, checkSlug, slugFromName } from './names.js';
import type { Actor, CreatedOrganization, Organization } from './types.js';

/** Creates the organization with version 1 of both keys, in one transaction. */
export async function createOrganization(
  ctx: CredentialsContext,
  name: string,
  options: { slug?: string; actor: Actor },
): Promise<CreatedOrganization> {
  const cleanName = checkOrganizationName(name);
  const slug = organizationSlug(cleanName, options.slug);
  const orgId = randomUUID();
  const apiKey = mintVersion(ctx, orgId, 'api-key', 1);
  const serviceKey = mintVersion(ctx, orgId, 'agent-service-key', 1);
  const keyIds = { apiKey: apiKey.key.keyId, agentServiceKey: serviceKey.key.keyId };
  await ctx.store.transaction(async (ops) => {
    await ops.insertOrganization({ id: orgId, name: cleanName, slug, createdAt: ctx.now() });
    await ops.insertKeyVersion(apiKey.row);
    await ops.insertKeyVersion(serviceKey.row);
    await appendAudit(ops, ctx.now(), {
      orgId,
      actor: options.actor,
      action: 'org.created',
      keyId: null,
      detail: { name: cleanName, slug, ...keyIds },
    });
  });
  ctx.log.info({ orgId, slug, keyIds }, 'organization created');
  return {
    orgId,
    name: cleanName,
    slug,
    apiKey: apiKey.key.text,
    agent: { userName: agentUserName(orgId, slug), serviceKey: serviceKey.key.text },
    keyIds,
    versions: { apiKey: 1, agentServiceKey: 1 },
  };
}

/** The chosen slug, or one derived from the name; checked either way. */
export function organizationSlug(name: string, chosen?: string): string {
  const clean = checkOrganizationName(name);
  if (chosen !== undefined) return checkSlug(chosen);
  const slug = slugFromName(clean);
  if (slug === '') throw new UsageError(`cannot derive a slug from the name '${name}'; choose one (--slug)`);
  return checkSlug(slug);
}

/** By id (UUID) or by slug. */
export async function findOrganization(ops: StoreOps, ref: string): Promise<OrganizationRow | undefined> {
  return isOrgId(ref) ? ops.findOrganizationById(ref) : ops.findOrganizationBySlug(ref);
}

export function toOrganization(row: OrganizationRow): Organization {
  return {
    orgId: row.id,
    name: row.name,
    slug: row.slug,
    agentUserName: agentUserName(row.id, row.slug),
    createdAt: isoTime(row.createdAt),
  };
}
