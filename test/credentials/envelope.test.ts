import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AgentpackError } from '../../src/common/errors.js';
import { seal, unseal } from '../../src/credentials/envelope.js';
import { keyringFrom } from '../../src/credentials/keyring.js';

const context = { ownerId: 'org-a', purpose: 'api-key', version: 3 };
const secret = 'apo_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBCCCCCC';

describe('seal and unseal', () => {
  const keyring = keyringFrom(randomBytes(32));

  it('gives back the plaintext, and the ciphertext does not contain it', () => {
    const sealed = seal(keyring, secret, context);
    expect(sealed.masterKeyId).toBe(keyring.currentId);
    expect(Buffer.from(sealed.sealed, 'base64').toString('latin1')).not.toContain('BBBB');
    expect(unseal(keyring, sealed, context)).toBe(secret);
  });

  it('uses a fresh 12-byte nonce for every record', () => {
    const nonces = new Set(
      Array.from({ length: 100 }, () =>
        Buffer.from(seal(keyring, secret, context).sealed, 'base64')
          .subarray(0, 12)
          .toString('hex'),
      ),
    );
    expect(nonces.size).toBe(100);
  });

  it.each([
    ['another organization', { ...context, ownerId: 'org-b' }],
    ['another purpose', { ...context, purpose: 'agent-service-key' }],
    ['another version', { ...context, version: 2 }],
  ])('refuses a record read as belonging to %s', (_name, other) => {
    const sealed = seal(keyring, secret, context);
    expect(() => unseal(keyring, sealed, other)).toThrow(/authentication failed/);
  });

  it('refuses a record under a relabelled master key id', () => {
    const other = randomBytes(32);
    const both = keyringFrom(other, [randomBytes(32)]);
    const sealed = seal(both, secret, context);
    const [, oldId] = both.ids();
    expect(() => unseal(both, { ...sealed, masterKeyId: oldId as string }, context)).toThrow(AgentpackError);
  });

  it('refuses a flipped ciphertext bit, and the error holds no secret', () => {
    const sealed = seal(keyring, secret, context);
    const raw = Buffer.from(sealed.sealed, 'base64');
    raw[14] = (raw[14] as number) ^ 1;
    const error = (() => {
      try {
        unseal(keyring, { ...sealed, sealed: raw.toString('base64') }, context);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toBe(
      'cannot decrypt the api-key version 3 of org-a: authentication failed (wrong master key, or the record was altered or moved)',
    );
  });

  it('names the missing master key when a record was sealed under one it does not hold', () => {
    const sealed = seal(keyringFrom(randomBytes(32)), secret, context);
    expect(() => unseal(keyring, sealed, context)).toThrow(
      `a record is sealed under master key ${sealed.masterKeyId}, which is not configured (add it to AGENTPACK_MASTER_KEYS_OLD)`,
    );
  });
});
