import type { KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  type BundleVerification,
  formatIssuedAt,
  MAX_STATEMENT_BYTES,
  SIGNATURE_BYTES,
  VerificationError,
  verifyBundle,
} from '../../bundles/signature.js';
import { loadPublicKeys } from '../../client/keys.js';
import { UsageError } from '../../common/errors.js';
import { type ParsedArgs, parseArgs, stringOption } from '../args.js';
import type { CliIo, Command } from '../io.js';
import { print } from '../io.js';

const help = `usage: agentpack verify FILE [--sha256 F] [--sig F] [--key F|URL] [--json]

Checks that FILE is the bundle its statement (FILE.sha256) describes and that the
statement is signed (FILE.sig) by the agentpack signing key.

  --sha256 F    the statement (default: FILE.sha256)
  --sig F       the raw Ed25519 signature (default: FILE.sig)
  --key F|URL   public key: a PEM or JWKS file, or an http(s) URL serving one
                (default: the PEM file named by AGENTPACK_SIGNING_KEY)
  --json        print the result as JSON

Exit status: 0 verified, 1 does not verify, 2 could not check (usage, missing file or key).`;

/** Generous for a 64-byte signature, so a wrong file is reported by its size, not read whole. */
const MAX_SIGNATURE_FILE_BYTES = 4096;

export const run: Command = async (argv, io) => {
  const args = parseArgs(argv, { values: ['sha256', 'sig', 'key'], flags: ['json', 'help'] });
  if (args.options.has('help')) {
    print(io.stdout, help);
    return 0;
  }
  const [file, ...extra] = args.positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError(`verify: expected one FILE, found ${args.positionals.length} (try --help)`);
  const json = args.options.has('json');
  let result: BundleVerification;
  try {
    result = await check(args, file, io);
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    if (json) print(io.stdout, JSON.stringify({ ok: false, file, code: error.code, error: error.message }));
    print(io.stderr, `agentpack: ${file}: ${error.message}`);
    return 1;
  }
  const issuedAt = formatIssuedAt(result.issuedAt);
  const { sha256Hex, fileName, fileNameMatches, orgId, kind, version, keyId } = result;
  if (json) {
    const output = {
      ok: true,
      file,
      sha256: sha256Hex,
      fileName,
      fileNameMatches,
      orgId,
      kind,
      version,
      issuedAt,
      keyId,
    };
    print(io.stdout, JSON.stringify(output));
    return 0;
  }
  print(
    io.stdout,
    `OK ${file}: sha256 ${sha256Hex}, signed by ${keyId} for org ${orgId}, ${kind} ${version}, issued ${issuedAt}`,
  );
  if (!fileNameMatches)
    print(io.stderr, `note: the statement names the file ${fileName}; this one is ${basename(file)}`);
  return 0;
};

/** Gathers the inputs and verifies; VerificationError means the bundle does not check out. */
async function check(args: ParsedArgs, file: string, io: CliIo): Promise<BundleVerification> {
  const statementName = stringOption(args, 'sha256') ?? `${file}.sha256`;
  const signatureName = stringOption(args, 'sig') ?? `${file}.sig`;
  const bundlePath = resolve(io.cwd, file);
  await readCapped(bundlePath, file, 'bundle', 0);
  const statement = await readCapped(
    resolve(io.cwd, statementName),
    statementName,
    'statement',
    MAX_STATEMENT_BYTES,
    '--sha256',
  );
  const signature = await readCapped(
    resolve(io.cwd, signatureName),
    signatureName,
    'signature',
    MAX_SIGNATURE_FILE_BYTES,
    '--sig',
  );
  const publicKeys = await publicKeysFor(stringOption(args, 'key') ?? io.env.AGENTPACK_SIGNING_KEY, io.cwd);
  return verifyBundle({ file: bundlePath, statement, signature, publicKeys });
}

/**
 * Reads a small input file whole (limit 0: only checks the file is there). A missing or
 * unreadable file is a usage error; an oversized statement or signature fails verification.
 */
async function readCapped(
  path: string,
  name: string,
  what: 'bundle' | 'statement' | 'signature',
  limit: number,
  option?: string,
): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = option === undefined ? '' : ` (give ${option} F)`;
    if (code === 'ENOENT') throw new UsageError(`no ${what} file ${name}${hint}`);
    throw new UsageError(`cannot read ${what} file ${name}: ${code ?? String(error)}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UsageError(`${what} ${name} is not a regular file`);
    if (limit === 0) return Buffer.alloc(0);
    if (stats.size > limit) {
      const expected =
        what === 'signature' ? `a raw ${SIGNATURE_BYTES}-byte Ed25519 signature` : `at most ${limit} bytes`;
      throw new VerificationError(
        what === 'signature' ? 'SIGNATURE_INVALID' : 'STATEMENT_INVALID',
        `${what} ${name}: expected ${expected}, found ${stats.size} bytes`,
      );
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function publicKeysFor(spec: string | undefined, cwd: string): Promise<Map<string, KeyObject>> {
  if (spec === undefined || spec === '')
    throw new UsageError(
      'no signing key given: pass --key FILE|URL or set AGENTPACK_SIGNING_KEY to a PEM file ' +
        '(the service publishes it at /.well-known/agentpack/signing-key.pem)',
    );
  return loadPublicKeys(spec, cwd);
}
