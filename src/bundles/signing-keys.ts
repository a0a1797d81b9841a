import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { type AgentpackError, BadRequestError } from '../common/errors.js';

/**
 * Ed25519 signing keys for bundle statements. A key id is derived from the public key
 * (first 16 hex chars of the SHA-256 of its raw 32 bytes), so it is stable, needs no
 * registry, and anyone holding the public key can recompute it.
 */
export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
}

/** A public key and its id: what verifiers hold and what the service publishes. */
export interface PublicSigningKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
}

export interface ExportedSigningKey {
  readonly keyId: string;
  /** PKCS#8 PEM. A secret: never log it. */
  readonly privateKeyPem: string;
  /** SPKI PEM: what `openssl pkeyutl -verify -pubin -inkey` reads. */
  readonly publicKeyPem: string;
  readonly createdAt: string;
}

/** An OKP/Ed25519 JSON Web Key (RFC 8037) with only public members. */
export interface Ed25519Jwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly use: 'sig';
  readonly alg: 'EdDSA';
}

export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

export function generateSigningKey(now: Date = new Date()): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(publicKey), privateKey, publicKey, createdAt: now.toISOString() };
}

/** The key id of an Ed25519 key (a private key gives the id of its public half). */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16);
}

export function exportSigningKey(key: SigningKey): ExportedSigningKey {
  return {
    keyId: key.keyId,
    privateKeyPem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKeyPem(key.publicKey),
    createdAt: key.createdAt,
  };
}

/** Parses an exported key and checks that its parts agree (id, public half, date). */
export function importSigningKey(exported: ExportedSigningKey): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: exported.privateKeyPem, format: 'pem' });
  } catch (error) {
    throw keyError(`signing key ${exported.keyId}: private key is not a readable PEM`, error);
  }
  requireEd25519(privateKey, `signing key ${exported.keyId}`);
  const publicKey = createPublicKey(privateKey);
  const derivedId = keyIdOf(publicKey);
  if (derivedId !== exported.keyId)
    throw keyError(`signing key ${exported.keyId}: expected the id derived from its key, found ${derivedId}`);
  const stated = publicKeyFromPem(exported.publicKeyPem);
  if (stated.keyId !== derivedId)
    throw keyError(`signing key ${exported.keyId}: its public key PEM belongs to key ${stated.keyId}`);
  if (Number.isNaN(Date.parse(exported.createdAt)))
    throw keyError(
      `signing key ${exported.keyId}: expected an ISO-8601 createdAt, found ${exported.createdAt}`,
    );
  return { keyId: derivedId, privateKey, publicKey, createdAt: exported.createdAt };
}

/** SPKI PEM of the public half (a private key is accepted and never exported). */
export function publicKeyPem(key: KeyObject): string {
  return toPublic(key).export({ format: 'pem', type: 'spki' }).toString();
}

/** Reads an Ed25519 public key PEM (SPKI; a private key PEM gives its public half). */
export function publicKeyFromPem(pem: string | Buffer): PublicSigningKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw keyError('expected an Ed25519 public key PEM, found something unreadable', error);
  }
  requireEd25519(publicKey, 'the PEM');
  return { keyId: keyIdOf(publicKey), publicKey };
}

export function toJwk(key: KeyObject, keyId: string = keyIdOf(key)): Ed25519Jwk {
  const publicKey = toPublic(key);
  requireEd25519(publicKey, 'the key');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw keyError('expected an Ed25519 JWK export with x, found none');
  // Built member by member so a private `d` can never slip into a published document.
  return { kty: 'OKP', crv: 'Ed25519', x, kid: keyId, use: 'sig', alg: 'EdDSA' };
}

export function jwksDocument(keys: readonly PublicSigningKey[]): { keys: Ed25519Jwk[] } {
  return { keys: keys.map((k) => toJwk(k.publicKey, k.keyId)) };
}

/** Reads one JWK; its `kid`, when present, must be the id derived from the key. */
export function publicKeyFromJwk(jwk: unknown): PublicSigningKey {
  if (!isRecord(jwk)) throw keyError('expected a JWK object, found something else');
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')
    throw keyError(`expected an OKP/Ed25519 JWK, found kty ${String(jwk.kty)} crv ${String(jwk.crv)}`);
  if (typeof jwk.x !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(jwk.x))
    throw keyError('expected an Ed25519 JWK with a 43-character base64url x');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  const keyId = keyIdOf(publicKey);
  if (jwk.kid !== undefined && jwk.kid !== keyId)
    throw keyError(`JWK kid ${String(jwk.kid)} does not match its key (derived id ${keyId})`);
  return { keyId, publicKey };
}

/** Reads a JWKS document, keeping its Ed25519 keys (others are not ours to judge). */
export function publicKeysFromJwks(document: unknown): Map<string, KeyObject> {
  if (!isRecord(document) || !Array.isArray(document.keys))
    throw keyError('expected a JWKS document ({"keys": [...]}), found something else');
  const keys = new Map<string, KeyObject>();
  for (const jwk of document.keys) {
    if (isRecord(jwk) && (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')) continue;
    const { keyId, publicKey } = publicKeyFromJwk(jwk);
    keys.set(keyId, publicKey);
  }
  if (keys.size === 0) throw keyError('expected at least one Ed25519 key in the JWKS, found none');
  return keys;
}

// ---------------------------------------------------------------------------------------
// The keyring document. system/signing.ts is the one place that creates, reads and rotates
// it, in the service's secret vault (this file name in the data directory, or a sealed row).

export const KEYRING_FILE = 'signing-keys.json';

export interface SigningKeyring {
  /** The key that signs new statements. */
  readonly current: SigningKey;
  /** Every key, oldest first; retired keys stay so old statements still verify. */
  readonly keys: readonly SigningKey[];
}

interface KeyringFile {
  readonly version: 1;
  readonly currentKeyId: string;
  readonly keys: readonly ExportedSigningKey[];
}

export function serializeKeyring(keyring: SigningKeyring): string {
  const file: KeyringFile = {
    version: 1,
    currentKeyId: keyring.current.keyId,
    keys: keyring.keys.map(exportSigningKey),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Parses a keyring document; `source` names it in error messages. */
export function parseKeyring(text: string, source = KEYRING_FILE): SigningKeyring {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw keyError(`${source}: expected JSON, found unparsable text`, error);
  }
  if (!isRecord(data) || data.version !== 1)
    throw keyError(
      `${source}: expected {"version": 1, ...}, found version ${String(isRecord(data) && data.version)}`,
    );
  if (!Array.isArray(data.keys) || data.keys.length === 0)
    throw keyError(`${source}: expected a non-empty "keys" list`);
  const keys = data.keys.map((entry, index) =>
    importSigningKey(exportedKeyAt(entry, `${source}: keys[${index}]`)),
  );
  const ids = new Set(keys.map((k) => k.keyId));
  if (ids.size !== keys.length) throw keyError(`${source}: expected distinct key ids, found a duplicate`);
  const current = keys.find((k) => k.keyId === data.currentKeyId);
  if (current === undefined)
    throw keyError(`${source}: currentKeyId ${String(data.currentKeyId)} is not among its keys`);
  return { current, keys };
}

function exportedKeyAt(entry: unknown, where: string): ExportedSigningKey {
  if (!isRecord(entry)) throw keyError(`${where}: expected an object`);
  for (const field of ['keyId', 'privateKeyPem', 'publicKeyPem', 'createdAt'] as const)
    if (typeof entry[field] !== 'string') throw keyError(`${where}: expected a string ${field}`);
  return entry as unknown as ExportedSigningKey;
}

function rawPublicKey(key: KeyObject): Buffer {
  const publicKey = toPublic(key);
  requireEd25519(publicKey, 'the key');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw keyError('expected an Ed25519 key with a public point, found none');
  return Buffer.from(x, 'base64url');
}

function toPublic(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

function requireEd25519(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ed25519')
    throw keyError(`${what}: expected an Ed25519 key, found ${key.asymmetricKeyType ?? key.type}`);
}

function keyError(message: string, cause?: unknown): AgentpackError {
  return new BadRequestError('SIGNING_KEY_INVALID', message, cause === undefined ? undefined : { cause });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
