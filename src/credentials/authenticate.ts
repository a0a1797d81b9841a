import type { KeyVersionRow } from '../storage/db/types.js';
import { AgentAuthCache } from './auth-cache.js';
import { parseBasicPair, singleHeader } from './basic-auth.js';
import type { CredentialsContext } from './context.js';
import { digestMatches, digestMatchesNothing } from './digest.js';
import { type KeyPurpose, type ParsedKey, parseKey } from './key-format.js';
import { isValid } from './key-versions.js';
import { parseAgentUserName } from './names.js';
import type { AgentPrincipal, HeaderBag, PersonalPrincipal } from './types.js';

/**
 * The agent's two layers: `Authorization: base64(agent_<orgId>@<slug>:<agent service key>)`
 * and `API-Key: <organization API key>`, valid versions of the same organization. Any failure
 * is null, whatever the cause; the reason goes to the debug log only, with key ids at most.
 */
export async function authenticateAgent(
  ctx: CredentialsContext,
  headers: HeaderBag,
  cache?: AgentAuthCache,
): Promise<AgentPrincipal | null> {
  const authorization = singleHeader(headers, 'authorization');
  const apiKeyText = singleHeader(headers, 'api-key');
  const cacheKey =
    cache?.enabled === true && authorization !== null && apiKeyText !== null
      ? AgentAuthCache.keyOf(authorization, apiKeyText)
      : null;
  if (cacheKey !== null) {
    const hit = cache?.get(cacheKey, ctx.now());
    if (hit !== undefined) return hit;
  }
  const epoch = cache?.epoch ?? 0;
  const pair = parseBasicPair(authorization);
  const apiKey = parseKeyOf(apiKeyText, 'api-key');
  const serviceKey = parseKeyOf(pair?.key ?? null, 'agent-service-key');
  const agent = parseAgentUserName(pair?.user ?? '');
  if (agent === null || apiKey === null || serviceKey === null) return fail(ctx, 'agent', 'malformed');
  const [org, rows] = await Promise.all([
    ctx.store.findOrganizationById(agent.orgId),
    ctx.store.findKeyVersions([apiKey.keyId, serviceKey.keyId]),
  ]);
  const now = ctx.now();
  const apiRow = verifiedRow(rows, apiKey, agent.orgId, now);
  const serviceRow = verifiedRow(rows, serviceKey, agent.orgId, now);
  if (org === undefined || org.slug !== agent.slug || apiRow === null || serviceRow === null) {
    return fail(ctx, 'agent', 'rejected', [apiKey.keyId, serviceKey.keyId]);
  }
  const principal: AgentPrincipal = Object.freeze({
    kind: 'agent',
    orgId: org.id,
    orgSlug: org.slug,
    userName: pair?.user ?? '',
    keyIds: Object.freeze({ apiKey: apiRow.keyId, agentServiceKey: serviceRow.keyId }),
    versions: Object.freeze({ apiKey: apiRow.version, agentServiceKey: serviceRow.version }),
  });
  if (cacheKey !== null)
    cache?.set(cacheKey, principal, epoch, now, [apiRow.expiresAt, serviceRow.expiresAt]);
  return principal;
}

/**
 * People and CI: `Authorization: base64(<e-mail>:<personal service key>)` plus the `API-Key`
 * of an organization the user belongs to (or any organization, for a system admin).
 */
export async function authenticatePersonal(
  ctx: CredentialsContext,
  headers: HeaderBag,
): Promise<PersonalPrincipal | null> {
  const pair = parseBasicPair(singleHeader(headers, 'authorization'));
  const apiKey = parseKeyOf(singleHeader(headers, 'api-key'), 'api-key');
  const personalKey = parseKeyOf(pair?.key ?? null, 'personal-service-key');
  const email = pair !== null && pair.user.length <= 254 ? pair.user.toLowerCase() : null;
  if (email === null || apiKey === null || personalKey === null) return fail(ctx, 'personal', 'malformed');
  const [user, rows] = await Promise.all([
    ctx.store.findUserByEmail(email),
    ctx.store.findKeyVersions([apiKey.keyId, personalKey.keyId]),
  ]);
  const now = ctx.now();
  const orgId = rows.find((row) => row.keyId === apiKey.keyId)?.ownerId ?? '';
  const apiRow = verifiedRow(rows, apiKey, orgId, now);
  const personalRow = verifiedRow(rows, personalKey, user?.id ?? '', now);
  const membership =
    user !== undefined && apiRow !== null ? await ctx.store.findMembership(user.id, orgId) : undefined;
  if (
    user === undefined ||
    apiRow === null ||
    personalRow === null ||
    (membership === undefined && !user.systemAdmin)
  ) {
    return fail(ctx, 'personal', 'rejected', [apiKey.keyId, personalKey.keyId]);
  }
  return {
    kind: 'personal',
    userId: user.id,
    email: user.email,
    orgId,
    role: membership?.role ?? null,
    systemAdmin: user.systemAdmin,
    keyIds: { apiKey: apiRow.keyId, serviceKey: personalRow.keyId },
  };
}

function parseKeyOf(text: string | null, purpose: KeyPurpose): ParsedKey | null {
  const key = text === null ? null : parseKey(text);
  return key?.purpose === purpose ? key : null;
}

/** The row when the key matches its digest, belongs to `ownerId` and is valid now; always hashes. */
function verifiedRow(
  rows: KeyVersionRow[],
  key: ParsedKey,
  ownerId: string,
  now: number,
): KeyVersionRow | null {
  const row = rows.find((r) => r.keyId === key.keyId);
  if (row === undefined) return digestMatchesNothing(key.text) || null;
  const matches = digestMatches(key.text, row.digest);
  return matches && row.ownerId === ownerId && row.purpose === key.purpose && isValid(row, now) ? row : null;
}

function fail(ctx: CredentialsContext, kind: string, reason: string, keyIds: string[] = []): null {
  ctx.log.debug({ kind, reason, keyIds }, 'authentication failed');
  return null;
}

/**
 * The organization whose API key `headers` carry, when that key really is one of its keys
 * (checked against its digest; an expired one counts: its holder still proved it has it), else
 * null. Lets a failed login be filed under the organization it aimed at only when the caller
 * proved it holds that organization's key: an organization named by an id or a user name
 * alone is unverified input.
 */
export async function verifiedApiKeyOrg(ctx: CredentialsContext, headers: HeaderBag): Promise<string | null> {
  const apiKey = parseKeyOf(singleHeader(headers, 'api-key'), 'api-key');
  if (apiKey === null) return null;
  const [row] = await ctx.store.findKeyVersions([apiKey.keyId]);
  if (row === undefined) return digestMatchesNothing(apiKey.text) || null;
  return row.purpose === 'api-key' && digestMatches(apiKey.text, row.digest) ? row.ownerId : null;
}
