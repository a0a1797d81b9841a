import { createHash, KeyObject, sign, verify } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, type CodeFor, InternalError, UnprocessableError } from '../common/errors.js';
import { KEY_ID_PATTERN, keyIdOf, type SigningKey } from './signing-keys.js';

/**
 * The signed statement IS the bundle's `.sha256` file: a `sha256sum -c` line, then comment
 * lines (which sha256sum skips) binding the digest to org, kind, version, time and key:
 *
 *   <64 hex>  <file name>
 *   # agentpack-statement: v1
 *   # org: <orgId>
 *   # kind: <kind>
 *   # version: <version>
 *   # issued-at: 2026-11-26T14:00:00Z
 *   # key-id: <16 hex>
 *
 * The `.sig` file is the raw 64-byte Ed25519 signature over these exact bytes, so
 * `openssl pkeyutl -verify -rawin` checks it without agentpack.
 */
export interface StatementFields {
  readonly sha256Hex: string;
  readonly fileName: string;
  readonly orgId: string;
  readonly kind: string;
  readonly version: string;
  /** Kept to whole seconds: the statement has no room for milliseconds. */
  readonly issuedAt: Date;
  readonly keyId: string;
}

export interface BundleVerification extends StatementFields {
  /** The file that was checked (as given). */
  readonly file: string;
  /** Whether the file's base name is the one the statement names; renamed downloads still verify. */
  readonly fileNameMatches: boolean;
}

/** A bundle, statement or signature that does not check out (CLI exit 1). */
export class VerificationError extends UnprocessableError {
  constructor(code: CodeFor<422>, message: string) {
    super(code, message);
    this.name = 'VerificationError';
  }
}

export const STATEMENT_VERSION = 'v1';
export const SIGNATURE_BYTES = 64;
/** A real statement is a few hundred bytes; anything far larger is not one. */
export const MAX_STATEMENT_BYTES = 4096;
const MAX_FIELD_LENGTH = 256;

const COMMENT_FIELDS = [
  ['agentpack-statement', () => STATEMENT_VERSION],
  ['org', (f: StatementFields) => f.orgId],
  ['kind', (f: StatementFields) => f.kind],
  ['version', (f: StatementFields) => f.version],
  ['issued-at', (f: StatementFields) => formatIssuedAt(f.issuedAt)],
  ['key-id', (f: StatementFields) => f.keyId],
] as const;

export function buildStatement(fields: StatementFields): Buffer {
  const problem = statementFieldsProblem(fields);
  if (problem !== undefined) throw new BadRequestError('STATEMENT_FIELD_INVALID', problem);
  const lines = [`${fields.sha256Hex}  ${fields.fileName}`];
  for (const [name, value] of COMMENT_FIELDS) lines.push(`# ${name}: ${value(fields)}`);
  return Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
}

/** Strict: exactly the lines `buildStatement` writes, in its order, nothing else. */
export function parseStatement(statement: Buffer): StatementFields {
  if (statement.length > MAX_STATEMENT_BYTES)
    throw invalid(`expected at most ${MAX_STATEMENT_BYTES} bytes, found ${statement.length}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(statement);
  } catch {
    throw invalid('expected UTF-8 text, found invalid bytes');
  }
  if (!text.endsWith('\n')) throw invalid('expected it to end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const expectedLines = 1 + COMMENT_FIELDS.length;
  if (lines.length !== expectedLines) throw invalid(`expected ${expectedLines} lines, found ${lines.length}`);
  const first = /^([0-9a-f]{64}) {2}(.+)$/.exec(lines[0] as string);
  if (first === null)
    throw invalid(`line 1: expected '<64 lowercase hex>  <file name>', found ${quote(lines[0])}`);
  const values = new Map<string, string>();
  COMMENT_FIELDS.forEach(([name], index) => {
    const line = lines[index + 1] as string;
    const prefix = `# ${name}: `;
    if (!line.startsWith(prefix))
      throw invalid(`line ${index + 2}: expected '${prefix}...', found ${quote(line)}`);
    values.set(name, line.slice(prefix.length));
  });
  if (values.get('agentpack-statement') !== STATEMENT_VERSION)
    throw invalid(
      `expected statement version ${STATEMENT_VERSION}, found ${quote(values.get('agentpack-statement'))}`,
    );
  const fields: StatementFields = {
    sha256Hex: first[1] as string,
    fileName: first[2] as string,
    orgId: values.get('org') as string,
    kind: values.get('kind') as string,
    version: values.get('version') as string,
    issuedAt: parseIssuedAt(values.get('issued-at') as string),
    keyId: values.get('key-id') as string,
  };
  const problem = statementFieldsProblem(fields);
  if (problem !== undefined) throw invalid(problem);
  return fields;
}

/** `2026-11-26T14:00:00Z`: UTC, whole seconds. */
export function formatIssuedAt(date: Date): string {
  if (Number.isNaN(date.getTime()))
    throw new BadRequestError('STATEMENT_FIELD_INVALID', 'issued-at: invalid date');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function signStatement(statement: Buffer, key: SigningKey | KeyObject): Buffer {
  const privateKey = key instanceof KeyObject ? key : key.privateKey;
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519')
    throw new InternalError('SIGNING_KEY_INVALID', 'expected an Ed25519 private key to sign with');
  return sign(null, statement, privateKey);
}

export function verifyStatement(statement: Buffer, signature: Buffer, publicKey: KeyObject): boolean {
  if (publicKey.asymmetricKeyType !== 'ed25519')
    throw new BadRequestError(
      'SIGNING_KEY_INVALID',
      `expected an Ed25519 key, found ${publicKey.asymmetricKeyType}`,
    );
  if (signature.length !== SIGNATURE_BYTES) return false;
  return verify(null, statement, publicKey, signature);
}

/** SHA-256 of a file, streamed: memory stays flat whatever the file's size. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export interface VerifyBundleInput {
  readonly file: string;
  readonly statement: Buffer;
  readonly signature: Buffer;
  /** By key id, or one key (its id is derived). */
  readonly publicKeys: ReadonlyMap<string, KeyObject> | KeyObject;
}

/**
 * Checks the signature over the statement first (a statement that is not ours says
 * nothing), then that the file's digest is the one it states. Throws VerificationError
 * with one line naming what failed.
 */
export async function verifyBundle(input: VerifyBundleInput): Promise<BundleVerification> {
  const fields = parseStatement(input.statement);
  const keys: ReadonlyMap<string, KeyObject> =
    input.publicKeys instanceof KeyObject
      ? new Map([[keyIdOf(input.publicKeys), input.publicKeys]])
      : input.publicKeys;
  const publicKey = keys.get(fields.keyId);
  if (publicKey === undefined)
    throw new VerificationError(
      'SIGNING_KEY_UNKNOWN',
      `statement was signed by key ${fields.keyId}, which is not among the given keys (${[...keys.keys()].join(', ') || 'none'})`,
    );
  if (input.signature.length !== SIGNATURE_BYTES)
    throw new VerificationError(
      'SIGNATURE_INVALID',
      `expected a raw ${SIGNATURE_BYTES}-byte Ed25519 signature, found ${input.signature.length} bytes`,
    );
  if (!verifyStatement(input.statement, input.signature, publicKey))
    throw new VerificationError('SIGNATURE_INVALID', `signature does not verify with key ${fields.keyId}`);
  const actual = await sha256File(input.file);
  if (actual !== fields.sha256Hex)
    throw new VerificationError(
      'DIGEST_MISMATCH',
      `digest mismatch: statement says ${fields.sha256Hex}, file has ${actual}`,
    );
  return { ...fields, file: input.file, fileNameMatches: basename(input.file) === fields.fileName };
}

/** Returns what is wrong with the fields, or undefined. Guards every field against line injection. */
export function statementFieldsProblem(fields: StatementFields): string | undefined {
  if (!/^[0-9a-f]{64}$/.test(fields.sha256Hex))
    return `sha256: expected 64 lowercase hex characters, found ${quote(fields.sha256Hex)}`;
  if (fields.fileName.length === 0 || fields.fileName.length > MAX_FIELD_LENGTH)
    return `file name: expected 1 to ${MAX_FIELD_LENGTH} characters, found ${fields.fileName.length}`;
  // sha256sum reads a leading backslash as an escaped name, and a slash would name another directory.
  if (/[\s/\\]/u.test(fields.fileName) || hasControl(fields.fileName) || /^\.\.?$/.test(fields.fileName))
    return `file name: expected a plain name (no whitespace, slash, backslash, control characters), found ${quote(fields.fileName)}`;
  for (const [name, value] of [
    ['org', fields.orgId],
    ['kind', fields.kind],
    ['version', fields.version],
  ] as const) {
    if (value.length === 0 || value.length > MAX_FIELD_LENGTH)
      return `${name}: expected 1 to ${MAX_FIELD_LENGTH} characters, found ${value.length}`;
    if (hasControl(value) || value !== value.trim())
      return `${name}: expected no control characters, line breaks or surrounding spaces, found ${quote(value)}`;
  }
  if (Number.isNaN(fields.issuedAt.getTime())) return 'issued-at: expected a valid date';
  if (!KEY_ID_PATTERN.test(fields.keyId))
    return `key-id: expected 16 lowercase hex characters, found ${quote(fields.keyId)}`;
  return undefined;
}

function parseIssuedAt(text: string): Date {
  const date = new Date(text);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text) ||
    Number.isNaN(date.getTime()) ||
    formatIssuedAt(date) !== text
  )
    throw invalid(`issued-at: expected UTC time like 2026-11-26T14:00:00Z, found ${quote(text)}`);
  return date;
}

/**
 * Control (C0, DEL, C1), format (bidi overrides, zero-width) and line/paragraph separator
 * characters: anything that could break a line or make one read as something else.
 */
function hasControl(value: string): boolean {
  return /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value);
}

function invalid(reason: string): VerificationError {
  return new VerificationError(
    'STATEMENT_INVALID',
    `statement is not a valid agentpack statement: ${reason}`,
  );
}

/** Quoted and cut short, with control characters visible: safe for a one-line message. */
function quote(value: string | undefined): string {
  if (value === undefined) return 'nothing';
  const cut = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return JSON.stringify(cut);
}
