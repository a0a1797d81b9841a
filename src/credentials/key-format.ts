import { crc32Base62, randomBase62 } from './base62.js';

/**
 * Key format: `<prefix>_<publicId>_<secret><checksum>`, e.g.
 * `apo_3xK9mQ2pL7vA_Vb4n...` (47 characters).
 *
 * - prefix: `apo` organization API key, `aps` agent service key, `apu` a user's personal key;
 * - publicId: 12 base62 characters, unique; `<prefix>_<publicId>` is the key id, safe to log;
 * - secret: 24 base62 characters from the CSPRNG (24 * log2(62) = 142.9 bits);
 * - checksum: CRC32 of `<prefix>_<publicId>_<secret>` in base62 (0-9A-Za-z), 6 characters,
 *   zero-padded, so a mistyped key is refused before any lookup and scanners can tell a
 *   real key from a look-alike.
 */
export type KeyPurpose = 'api-key' | 'agent-service-key' | 'personal-service-key';

export const KEY_PREFIX: Readonly<Record<KeyPurpose, string>> = {
  'api-key': 'apo',
  'agent-service-key': 'aps',
  'personal-service-key': 'apu',
};

export const PUBLIC_ID_LENGTH = 12;
export const SECRET_LENGTH = 24;
export const CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = 3 + 1 + PUBLIC_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;

/** What secret scanners can search for. */
export const KEY_PATTERN = /\bap[osu]_[0-9A-Za-z]{12}_[0-9A-Za-z]{30}\b/;

const EXACT = /^(apo|aps|apu)_([0-9A-Za-z]{12})_([0-9A-Za-z]{24})([0-9A-Za-z]{6})$/;

export interface ParsedKey {
  readonly purpose: KeyPurpose;
  /** `<prefix>_<publicId>`: identifies the key, never proves anything. */
  readonly keyId: string;
  readonly publicId: string;
  readonly secret: string;
  /** The whole key text, as given. */
  readonly text: string;
}

export function mintKey(purpose: KeyPurpose): ParsedKey {
  const keyId = `${KEY_PREFIX[purpose]}_${randomBase62(PUBLIC_ID_LENGTH)}`;
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${keyId}_${secret}`;
  return parsed(purpose, keyId, secret, `${body}${crc32Base62(body)}`);
}

/** The key, or null when it is not one: wrong shape, unknown prefix or a checksum mismatch. */
export function parseKey(text: string): ParsedKey | null {
  if (text.length !== KEY_LENGTH) return null;
  const match = EXACT.exec(text);
  if (match === null) return null;
  const [, prefix, publicId, secret, checksum] = match as unknown as [string, string, string, string, string];
  if (crc32Base62(`${prefix}_${publicId}_${secret}`) !== checksum) return null;
  return parsed(purposeOf(prefix), `${prefix}_${publicId}`, secret, text);
}

/** The key id of a key text, or null; checks the shape only, so it may be used on any input. */
export function keyIdOfKeyText(text: string): string | null {
  return parseKey(text)?.keyId ?? null;
}

function purposeOf(prefix: string): KeyPurpose {
  const entry = Object.entries(KEY_PREFIX).find(([, p]) => p === prefix);
  return (entry as [KeyPurpose, string])[0];
}

function parsed(purpose: KeyPurpose, keyId: string, secret: string, text: string): ParsedKey {
  return { purpose, keyId, publicId: keyId.slice(4), secret, text };
}
