import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildStatement, type StatementFields, signStatement } from '../../src/bundles/signature.js';
import { generateSigningKey } from '../../src/bundles/signing-keys.js';
import { checkSignedStatement, checkStatementMatchesUrl } from '../../src/client/verification.js';

const key = generateSigningKey();
const fields: StatementFields = {
  sha256Hex: randomBytes(32).toString('hex'),
  fileName: 'agentpack-java-1.2.3-acme.jar',
  orgId: 'acme',
  kind: 'java',
  version: '1.2.3',
  issuedAt: new Date('2026-11-26T14:00:00Z'),
  keyId: key.keyId,
};
const statement = buildStatement(fields);
const keys = new Map([[key.keyId, key.publicKey]]);

describe('checkSignedStatement', () => {
  it('returns the fields of a statement signed by a given key', () => {
    expect(checkSignedStatement(statement, signStatement(statement, key), keys)).toEqual(fields);
  });

  it('refuses a statement edited after signing', () => {
    const signature = signStatement(statement, key);
    const edited = Buffer.from(statement.toString().replace('1.2.3\n', '1.2.4\n'));
    expect(() => checkSignedStatement(edited, signature, keys)).toThrow(
      `signature does not verify with key ${key.keyId}`,
    );
  });

  it('refuses a signature of the wrong size and an unknown key', () => {
    expect(() => checkSignedStatement(statement, Buffer.alloc(10), keys)).toThrow(
      'expected a raw 64-byte Ed25519 signature, found 10 bytes',
    );
    const other = generateSigningKey();
    expect(() =>
      checkSignedStatement(
        statement,
        signStatement(statement, key),
        new Map([[other.keyId, other.publicKey]]),
      ),
    ).toThrow(`statement was signed by key ${key.keyId}, which is not among the given keys (${other.keyId})`);
  });
});

describe('checkStatementMatchesUrl', () => {
  const url = (version: string, org = 'acme', kind = 'java') =>
    new URL(`https://h/api/v1/orgs/${org}/agents/${kind}/${version}/bundle`);

  it('accepts the version asked for, or any version for latest', () => {
    expect(() => checkStatementMatchesUrl(fields, url('1.2.3'))).not.toThrow();
    expect(() => checkStatementMatchesUrl(fields, url('latest'))).not.toThrow();
  });

  it("refuses another org's, kind's or version's statement", () => {
    expect(() => checkStatementMatchesUrl(fields, url('1.2.2'))).toThrow(
      'the URL asks for org acme, java 1.2.2, but the signed statement is for org acme, java 1.2.3',
    );
    expect(() => checkStatementMatchesUrl(fields, url('latest', 'globex'))).toThrow(/asks for org globex/);
    expect(() => checkStatementMatchesUrl(fields, url('latest', 'acme', 'node'))).toThrow(/node latest/);
  });

  it('has nothing to compare for a signed link', () => {
    expect(() => checkStatementMatchesUrl(fields, new URL('https://h/dl/tok'))).not.toThrow();
  });
});
