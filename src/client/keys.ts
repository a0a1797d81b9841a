import type { KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { publicKeyFromJwk, publicKeyFromPem, publicKeysFromJwks } from '../bundles/signing-keys.js';
import { AgentpackError, UsageError } from '../common/errors.js';
import { displayUrl, isHttpUrl } from './urls.js';

/**
 * Public signing keys for checking bundle statements: a PEM, a JWKS document or a single JWK,
 * read from a file or fetched from an http(s) URL. Shared by `verify` and `download`.
 */

const FETCH_TIMEOUT_MS = 10_000;
const MAX_KEY_BYTES = 1024 * 1024;

/**
 * A key URL that could not be fetched. A UsageError (verify exits 2 on it); `download`
 * counts it with the network failures.
 */
export class KeyFetchError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFetchError';
  }
}

/** Loads the keys named by `spec` (a file path, relative to `cwd`, or an http(s) URL), by key id. */
export async function loadPublicKeys(
  spec: string,
  cwd: string,
  signal?: AbortSignal,
): Promise<Map<string, KeyObject>> {
  const isUrl = isHttpUrl(spec);
  const label = isUrl ? urlLabel(spec) : spec;
  const text = isUrl ? await fetchKey(spec, label, signal) : await readKeyFile(resolve(cwd, spec), spec);
  try {
    return parseKeyText(text);
  } catch (error) {
    if (error instanceof AgentpackError) throw new UsageError(`key ${label}: ${error.message}`);
    throw error;
  }
}

/** A PEM, a JWKS document or a single JWK. */
export function parseKeyText(text: string): Map<string, KeyObject> {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    const { keyId, publicKey } = publicKeyFromPem(trimmed);
    return new Map([[keyId, publicKey]]);
  }
  if (trimmed.startsWith('{')) {
    let document: unknown;
    try {
      document = JSON.parse(trimmed);
    } catch {
      throw new UsageError('expected a PEM or JWKS, found unparsable JSON');
    }
    if (typeof document === 'object' && document !== null && 'keys' in document)
      return publicKeysFromJwks(document);
    const { keyId, publicKey } = publicKeyFromJwk(document);
    return new Map([[keyId, publicKey]]);
  }
  throw new UsageError('expected a PEM (-----BEGIN PUBLIC KEY-----) or a JWKS document, found neither');
}

async function readKeyFile(path: string, name: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`no key file ${name}`);
    throw new UsageError(`cannot read key file ${name}: ${code ?? String(error)}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UsageError(`key ${name} is not a regular file`);
    if (stats.size > MAX_KEY_BYTES) throw new UsageError(`key file ${name} is too large to be a key`);
    return (await handle.readFile()).toString('utf8');
  } finally {
    await handle.close();
  }
}

async function fetchKey(url: string, label: string, signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, {
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      redirect: 'follow',
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new KeyFetchError(`could not fetch the signing key from ${label}: ${fetchFailure(error)}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new KeyFetchError(`could not fetch the signing key from ${label}: HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_KEY_BYTES) {
    await response.body?.cancel();
    throw new UsageError(`signing key at ${label} is ${declared} bytes, too large to be a key`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      if (size > MAX_KEY_BYTES) throw new UsageError(`signing key at ${label} is too large to be a key`);
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (signal?.aborted) throw signal.reason;
    throw new KeyFetchError(`could not fetch the signing key from ${label}: ${fetchFailure(error)}`);
  }
}

function fetchFailure(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) return code;
  return error instanceof Error ? (cause instanceof Error ? cause.message : error.message) : String(error);
}

function urlLabel(url: string): string {
  try {
    return displayUrl(new URL(url));
  } catch {
    throw new UsageError('--key: expected a file path or an http(s) URL, found a malformed URL');
  }
}
