import type { KeyObject } from 'node:crypto';
import {
  parseStatement,
  SIGNATURE_BYTES,
  type StatementFields,
  VerificationError,
  verifyStatement,
} from '../bundles/signature.js';
import { requestedBundle } from './urls.js';

/**
 * Checks a statement and its signature before a single bundle byte is fetched: a statement
 * that is not signed by a trusted key says nothing, so its digest is not worth downloading for.
 * Same checks and messages as `verifyBundle`, minus the file digest (which the download
 * computes as it writes).
 */
export function checkSignedStatement(
  statement: Buffer,
  signature: Buffer,
  keys: ReadonlyMap<string, KeyObject>,
): StatementFields {
  const fields = parseStatement(statement);
  const publicKey = keys.get(fields.keyId);
  if (publicKey === undefined)
    throw new VerificationError(
      'SIGNING_KEY_UNKNOWN',
      `statement was signed by key ${fields.keyId}, which is not among the given keys (${[...keys.keys()].join(', ') || 'none'})`,
    );
  if (signature.length !== SIGNATURE_BYTES)
    throw new VerificationError(
      'SIGNATURE_INVALID',
      `expected a raw ${SIGNATURE_BYTES}-byte Ed25519 signature, found ${signature.length} bytes`,
    );
  if (!verifyStatement(statement, signature, publicKey))
    throw new VerificationError('SIGNATURE_INVALID', `signature does not verify with key ${fields.keyId}`);
  return fields;
}

/**
 * An API URL names the org, kind and version it wants; a validly signed statement for another
 * one (a swapped or replayed bundle) must not pass for it. Signed links name none, so pass.
 */
export function checkStatementMatchesUrl(fields: StatementFields, url: URL): void {
  const wanted = requestedBundle(url);
  if (wanted === undefined) return;
  const versionMatches = wanted.version === 'latest' || wanted.version === fields.version;
  if (wanted.orgId === fields.orgId && wanted.kind === fields.kind && versionMatches) return;
  throw new VerificationError(
    'STATEMENT_MISMATCH',
    `the URL asks for org ${wanted.orgId}, ${wanted.kind} ${wanted.version}, but the signed statement is for org ${fields.orgId}, ${fields.kind} ${fields.version}`,
  );
}
