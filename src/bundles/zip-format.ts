import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { ZipArchive } from 'archiver';
import { formatIssuedAt, signStatement } from './signature.js';
import type { SigningKey } from './signing-keys.js';

export interface ZipFormatInput {
  /** The untouched base agent, streamed from the catalog. */
  readonly base: Readable;
  readonly baseName: string;
  readonly baseSha256: string;
  readonly config: Buffer;
  readonly configName: string;
  readonly orgId: string;
  readonly kind: string;
  readonly version: string;
  readonly issuedAt: Date;
  readonly key: SigningKey;
}

/** Fixed entry time, so the same inputs give the same zip. */
const ENTRY_DATE = new Date('2020-01-01T00:00:00Z');

/**
 * The "config beside the agent" format: the untouched agent, its config file, and SHA256SUMS
 * (a `sha256sum -c` file whose `#` lines bind both digests to the organization, kind, version
 * and time) with SHA256SUMS.sig, the raw Ed25519 signature over it. Streamed by archiver.
 */
export function zipFormat(input: ZipFormatInput): Readable {
  const sums = sumsStatement(input);
  const archive = new ZipArchive({ zlib: { level: 6 } });
  const out = new PassThrough();
  archive.on('error', (error) => out.destroy(error));
  input.base.on('error', (error) => {
    archive.abort();
    out.destroy(error);
  });
  archive.pipe(out);
  archive.append(input.base, { name: input.baseName, date: ENTRY_DATE, store: true });
  archive.append(input.config, { name: input.configName, date: ENTRY_DATE, mode: 0o600 });
  archive.append(sums, { name: 'SHA256SUMS', date: ENTRY_DATE });
  archive.append(signStatement(sums, input.key), { name: 'SHA256SUMS.sig', date: ENTRY_DATE, store: true });
  archive.append(readme(input), { name: 'README.txt', date: ENTRY_DATE });
  archive.finalize().catch((error: unknown) => out.destroy(error as Error));
  return out;
}

export function sumsStatement(input: Omit<ZipFormatInput, 'base'>): Buffer {
  const configSha256 = createHash('sha256').update(input.config).digest('hex');
  return Buffer.from(
    [
      `${input.baseSha256}  ${input.baseName}`,
      `${configSha256}  ${input.configName}`,
      '# agentpack-statement: v1',
      `# org: ${input.orgId}`,
      `# kind: ${input.kind}`,
      `# version: ${input.version}`,
      `# issued-at: ${formatIssuedAt(input.issuedAt)}`,
      `# key-id: ${input.key.keyId}`,
      '',
    ].join('\n'),
  );
}

function readme(input: ZipFormatInput): string {
  return [
    `agentpack ${input.kind} agent ${input.version}, configured for organization ${input.orgId}.`,
    '',
    `${input.baseName} is the vendor's agent, unchanged; ${input.configName} is its configuration`,
    'and holds secrets: keep it readable by the agent only.',
    '',
    'Verify (signing-key.pem from <server>/.well-known/agentpack/signing-key.pem):',
    '  sha256sum -c SHA256SUMS',
    '  openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig',
    '',
  ].join('\n');
}
