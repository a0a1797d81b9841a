import { InternalError, UsageError } from '../common/errors.js';
import { keyPurposeProblem } from '../common/validate.js';
import type { KeyVersionRow, StoreOps } from '../storage/db/types.js';
import type { CredentialsContext } from './context.js';
import { keyDigest } from './digest.js';
import { seal, unseal } from './envelope.js';
import { type KeyPurpose, mintKey, type ParsedKey } from './key-format.js';
import type { KeyWhich } from './types.js';

/** A freshly minted key and the row that stores it (digest + sealed copy, never plaintext). */
export interface MintedVersion {
  readonly key: ParsedKey;
  readonly row: KeyVersionRow;
}

export function mintVersion(
  ctx: CredentialsContext,
  ownerId: string,
  purpose: KeyPurpose,
  version: number,
): MintedVersion {
  const key = mintKey(purpose);
  const sealed = seal(ctx.keyring, key.text, { ownerId, purpose, version });
  const row: KeyVersionRow = {
    keyId: key.keyId,
    ownerId,
    purpose,
    version,
    digest: keyDigest(key.text),
    masterKeyId: sealed.masterKeyId,
    sealed: sealed.sealed,
    createdAt: ctx.now(),
    expiresAt: null,
  };
  return { key, row };
}

export function plaintextOf(ctx: CredentialsContext, row: KeyVersionRow): string {
  return unseal(ctx.keyring, row, { ownerId: row.ownerId, purpose: row.purpose, version: row.version });
}

/** Current (no expiry) or still in its grace period. */
export function isValid(row: KeyVersionRow, now: number): boolean {
  return row.expiresAt === null || row.expiresAt > now;
}

/** The newest version; every organization key has one from the moment the org exists. */
export async function currentVersion(
  ops: StoreOps,
  ownerId: string,
  purpose: KeyPurpose,
): Promise<{
  current: KeyVersionRow;
  older: KeyVersionRow[];
}> {
  const [current, ...older] = await ops.listKeyVersions(ownerId, purpose);
  if (current === undefined) {
    throw new InternalError('KEY_MISSING', `${ownerId} has no ${purpose}`);
  }
  return { current, older };
}

export function checkWhich(which: string): KeyWhich {
  const problem = keyPurposeProblem(which);
  if (problem !== null) throw new UsageError(problem);
  return which as KeyWhich;
}
