import { ConfigError } from '../common/errors.js';
import { appendAudit } from './audit.js';
import type { CredentialsContext } from './context.js';
import { seal, unseal } from './envelope.js';
import type { Actor, RewrapResult } from './types.js';

/**
 * Re-encrypts every record not yet under the current master key, in one transaction: if
 * any record fails to open, nothing is rewritten and the error names it.
 */
export async function rewrap(ctx: CredentialsContext, actor: Actor): Promise<RewrapResult> {
  const masterKeyId = ctx.keyring.currentId;
  const rewrapped = await ctx.store.transaction(async (ops) => {
    const rows = await ops.listKeyVersionsNotSealedBy(masterKeyId);
    for (const row of rows) {
      const context = { ownerId: row.ownerId, purpose: row.purpose, version: row.version };
      const resealed = seal(ctx.keyring, unseal(ctx.keyring, row, context), context);
      await ops.setSealed(row.keyId, resealed.masterKeyId, resealed.sealed);
    }
    const fromKeys = [...new Set(rows.map((row) => row.masterKeyId))];
    await appendAudit(ops, ctx.now(), {
      orgId: null,
      actor,
      action: 'master_key.rewrapped',
      detail: { masterKeyId, count: rows.length, fromMasterKeyIds: fromKeys },
    });
    return rows.length;
  });
  const bundles = await rewrapBundleSettings(ctx, masterKeyId);
  ctx.log.info({ masterKeyId, rewrapped, bundles }, 'records rewrapped');
  return { masterKeyId, rewrapped: rewrapped + bundles };
}

/** Bundle records seal their render settings (a proxy password, maybe) under the master key too. */
async function rewrapBundleSettings(ctx: CredentialsContext, masterKeyId: string): Promise<number> {
  const purpose = 'bundle-settings';
  let count = 0;
  for (const row of await ctx.store.listBundles()) {
    if (row.settingsMasterKeyId === masterKeyId) continue;
    const context = { ownerId: row.orgId, purpose, version: 0 };
    const plaintext = unseal(
      ctx.keyring,
      { masterKeyId: row.settingsMasterKeyId, sealed: row.settingsSealed },
      context,
    );
    const resealed = seal(ctx.keyring, plaintext, context);
    await ctx.store.setBundleSettingsSealed(row.id, resealed.masterKeyId, resealed.sealed);
    count++;
  }
  return count;
}

/** How many records each master key sealed. */
export async function masterKeyUsage(ctx: CredentialsContext): Promise<Map<string, number>> {
  const usage = await ctx.store.countByMasterKey();
  for (const row of await ctx.store.listBundles()) {
    usage.set(row.settingsMasterKeyId, (usage.get(row.settingsMasterKeyId) ?? 0) + 1);
  }
  return usage;
}

/** Fails at boot, not at the first request, when a record's master key is not configured. */
export async function checkMasterKeys(ctx: CredentialsContext): Promise<void> {
  const usage = await masterKeyUsage(ctx);
  const missing = [...usage.entries()].filter(([id]) => ctx.keyring.key(id) === undefined);
  if (missing.length === 0) return;
  const list = missing.map(([id, count]) => `${id} (${count} records)`).join(', ');
  throw new ConfigError(
    `the database holds secrets sealed under master keys that are not configured: ${list}; ` +
      'set AGENTPACK_MASTER_KEY or add the old key to AGENTPACK_MASTER_KEYS_OLD',
  );
}
