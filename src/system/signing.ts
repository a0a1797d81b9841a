import { randomBytes } from 'node:crypto';
import {
  generateSigningKey,
  KEYRING_FILE,
  type PublicSigningKey,
  parseKeyring,
  type SigningKey,
  type SigningKeyring,
  serializeKeyring,
} from '../bundles/signing-keys.js';
import { InternalError, ServiceUnavailableError } from '../common/errors.js';
import type { SecretVault, VaultEntry } from './vault.js';

/**
 * The one signing-keyring implementation: the server, `agentpack keys rotate-signing` and the
 * offline `agentpack pack` all create, read and rotate the keyring here. It sits beside the vault
 * rather than in bundles/ because the keyring is one of the service's own secrets and is stored
 * wherever the vault keeps those (`signing-keys.json` in the data directory, or a sealed row in
 * the shared database); bundles/signing-keys.ts keeps the keys and the document format, which
 * verifiers and the download client need without any storage.
 *
 * The bundle signing keys as every instance sees them. The keyring is re-read from its vault
 * at most every `refreshMs`, so a rotation made by another instance (or the CLI) is picked up
 * without a restart; retired keys stay so old statements still verify.
 */
export interface SigningService {
  keyring(): Promise<SigningKeyring>;
  /** The key that signs new statements. */
  current(): Promise<SigningKey>;
  /** Every public key, oldest first: what /.well-known publishes. */
  publicKeys(): Promise<PublicSigningKey[]>;
  /** Adds a new current key. */
  rotate(): Promise<SigningKeyring>;
}

export const SIGNING_KEYRING_SECRET = KEYRING_FILE;
export const LINK_KEY_SECRET = 'link.key';

export async function openSigning(
  vault: SecretVault,
  options: { now: () => number; refreshMs?: number },
): Promise<SigningService> {
  const refreshMs = options.refreshMs ?? 30_000;
  const parse = (entry: VaultEntry) => parseKeyring(entry.text, vault.describe(SIGNING_KEYRING_SECRET));
  const fresh = (): string => {
    const key = generateSigningKey(new Date(options.now()));
    return serializeKeyring({ current: key, keys: [key] });
  };
  let entry = await vault.createIfAbsent(SIGNING_KEYRING_SECRET, fresh());
  let cached = { keyring: parse(entry), loadedAt: options.now() };

  async function keyring(): Promise<SigningKeyring> {
    if (options.now() - cached.loadedAt < refreshMs && options.now() >= cached.loadedAt)
      return cached.keyring;
    const latest = (await vault.read(SIGNING_KEYRING_SECRET)) ?? entry;
    const parsed = latest.revision === entry.revision ? cached.keyring : parse(latest);
    entry = latest;
    cached = { keyring: parsed, loadedAt: options.now() };
    return parsed;
  }

  return {
    keyring,
    current: async () => (await keyring()).current,
    publicKeys: async () => (await keyring()).keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey })),
    async rotate() {
      for (let attempt = 0; attempt < 5; attempt++) {
        const base = (await vault.read(SIGNING_KEYRING_SECRET)) ?? entry;
        const old = parse(base);
        const key = generateSigningKey(new Date(options.now()));
        const next: SigningKeyring = { current: key, keys: [...old.keys, key] };
        const written = await vault.replace(SIGNING_KEYRING_SECRET, serializeKeyring(next), base.revision);
        if (written !== undefined) {
          entry = written;
          cached = { keyring: next, loadedAt: options.now() };
          return next;
        }
      }
      throw new ServiceUnavailableError(
        'SIGNING_ROTATE_CONFLICT',
        'signing key rotation kept racing another writer',
      );
    },
  };
}

/** The 32-byte HMAC key for signed download links, created once and shared by every instance. */
export async function openLinkKey(vault: SecretVault): Promise<Buffer> {
  const entry = await vault.createIfAbsent(LINK_KEY_SECRET, `${randomBytes(32).toString('base64')}\n`);
  const key = Buffer.from(entry.text.trim(), 'base64');
  if (key.length !== 32) {
    throw new InternalError(
      'LINK_KEY_INVALID',
      `the link key in the ${vault.where} must be base64 of 32 bytes; found ${key.length} bytes`,
    );
  }
  return key;
}
