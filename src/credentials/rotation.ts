import { ConflictError, NotFoundError } from '../common/errors.js';
import type { StoreOps } from '../storage/db/types.js';
import { appendAudit } from './audit.js';
import { type CredentialsContext, isoTime } from './context.js';
import { checkGraceSeconds } from './duration.js';
import { checkWhich, currentVersion, isValid, mintVersion } from './key-versions.js';
import type { Actor, EndGraceResult, RotationResult } from './types.js';

/**
 * Mints version n+1. Version n stays valid for `graceSeconds` (0: stops at once); a version
 * still in an earlier grace period ends now, so at most two are ever valid. One transaction,
 * under the organization's lock: a failure anywhere leaves the previous state untouched.
 */
export async function rotateKey(
  ctx: CredentialsContext,
  orgId: string,
  whichText: string,
  graceSeconds: number,
  actor: Actor,
): Promise<RotationResult> {
  const which = checkWhich(whichText);
  const grace = checkGraceSeconds(graceSeconds);
  const result = await ctx.store.transaction(async (ops): Promise<RotationResult> => {
    await lockOrganization(ops, orgId);
    const now = ctx.now();
    const { current, older } = await currentVersion(ops, orgId, which);
    const ended = older.filter((row) => isValid(row, now));
    for (const row of ended) await ops.setKeyExpiry(row.keyId, now);
    const expiresAt = now + grace * 1000;
    await ops.setKeyExpiry(current.keyId, expiresAt);
    const next = mintVersion(ctx, orgId, which, current.version + 1);
    await ops.insertKeyVersion(next.row);
    const endedIds = ended.map((row) => ({ version: row.version, keyId: row.keyId }));
    await appendAudit(ops, now, {
      orgId,
      actor,
      action: 'key.rotated',
      keyId: next.key.keyId,
      detail: {
        which,
        version: next.row.version,
        previousKeyId: current.keyId,
        previousVersion: current.version,
        graceSeconds: grace,
        previousExpiresAt: isoTime(expiresAt),
        endedKeyIds: ended.map((row) => row.keyId),
      },
    });
    return {
      orgId,
      which,
      version: next.row.version,
      keyId: next.key.keyId,
      key: next.key.text,
      previous: { version: current.version, keyId: current.keyId, expiresAt: isoTime(expiresAt) },
      ended: endedIds,
    };
  });
  ctx.log.info(
    {
      orgId,
      which,
      keyId: result.keyId,
      version: result.version,
      previousKeyId: result.previous.keyId,
      graceSeconds,
    },
    'key rotated',
  );
  return result;
}

/** Ends the grace period of previous versions now; a ConflictError when none is running. */
export async function endGrace(
  ctx: CredentialsContext,
  orgId: string,
  whichText: string,
  actor: Actor,
): Promise<EndGraceResult> {
  const which = checkWhich(whichText);
  const ended = await ctx.store.transaction(async (ops) => {
    await lockOrganization(ops, orgId);
    const now = ctx.now();
    const { older } = await currentVersion(ops, orgId, which);
    const pending = older.filter((row) => isValid(row, now));
    if (pending.length === 0) {
      throw new ConflictError(`no grace period is running for the ${which} of organization ${orgId}`);
    }
    for (const row of pending) {
      await ops.setKeyExpiry(row.keyId, now);
      await appendAudit(ops, now, {
        orgId,
        actor,
        action: 'key.grace_ended',
        keyId: row.keyId,
        detail: { which, version: row.version, plannedExpiresAt: isoTime(row.expiresAt ?? now) },
      });
    }
    return pending.map((row) => ({ version: row.version, keyId: row.keyId }));
  });
  ctx.log.info({ orgId, which, ended }, 'grace period ended');
  return { orgId, which, ended };
}

async function lockOrganization(ops: StoreOps, orgId: string): Promise<void> {
  if (!(await ops.lockOrganization(orgId))) throw new NotFoundError(`no organization ${orgId}`);
}
