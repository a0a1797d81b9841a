import { appendAudit } from './audit.js';
import type { CredentialsContext } from './context.js';
import { seal, unseal } from './envelope.js';
import { ConfigError } from './errors.js';
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
  ctx.log.info({ masterKeyId, rewrapped }, 'records rewrapped');
  return { masterKeyId, rewrapped };
}

/** How many records each master key sealed. */
export async function masterKeyUsage(ctx: CredentialsContext): Promise<Map<string, number>> {
  return ctx.store.countByMasterKey();
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
