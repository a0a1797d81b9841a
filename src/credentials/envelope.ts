import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type AgentpackError, InternalError } from '../common/errors.js';
import type { MasterKeyring } from './keyring.js';

/** Whose secret a record holds: bound into the associated data, so a moved row fails to open. */
export interface SealContext {
  readonly ownerId: string;
  readonly purpose: string;
  readonly version: number;
}

/** A sealed secret as stored: the master key id and base64(nonce || ciphertext || tag). */
export interface SealedSecret {
  readonly masterKeyId: string;
  readonly sealed: string;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM under the current master key, with a fresh random nonce per record. */
export function seal(keyring: MasterKeyring, plaintext: string, context: SealContext): SealedSecret {
  const masterKeyId = keyring.currentId;
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey(keyring, masterKeyId), nonce);
  cipher.setAAD(associatedData(masterKeyId, context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { masterKeyId, sealed: Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64') };
}

/** The plaintext, or an error naming the record's owner and purpose when it does not open. */
export function unseal(keyring: MasterKeyring, record: SealedSecret, context: SealContext): string {
  const raw = Buffer.from(record.sealed, 'base64');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw unsealError(context, 'it is truncated');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    masterKey(keyring, record.masterKeyId),
    raw.subarray(0, NONCE_BYTES),
  );
  decipher.setAAD(associatedData(record.masterKeyId, context));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch (error) {
    throw unsealError(
      context,
      'authentication failed (wrong master key, or the record was altered or moved)',
      error,
    );
  }
}

function associatedData(masterKeyId: string, context: SealContext): Buffer {
  return Buffer.from(
    JSON.stringify(['agentpack-secret-v1', masterKeyId, context.ownerId, context.purpose, context.version]),
  );
}

function masterKey(keyring: MasterKeyring, id: string): Buffer {
  const key = keyring.key(id);
  if (key === undefined) {
    throw new InternalError(
      'MASTER_KEY_MISSING',
      `a record is sealed under master key ${id}, which is not configured (add it to AGENTPACK_MASTER_KEYS_OLD)`,
    );
  }
  return key;
}

function unsealError(context: SealContext, why: string, cause?: unknown): AgentpackError {
  return new InternalError(
    'SECRET_UNREADABLE',
    `cannot decrypt the ${context.purpose} version ${context.version} of ${context.ownerId}: ${why}`,
    { cause },
  );
}
