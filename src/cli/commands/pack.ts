import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { SigningKey } from '../../bundles/signing-keys.js';
import { ArchiveError, UsageError } from '../../common/errors.js';
import { parseArgs, requireOption, stringOption } from '../args.js';
import type { Command } from '../io.js';
import { print } from '../io.js';
import { limitOptions, limitsFromArgs } from './limits-options.js';

const help = `usage: agentpack pack --base FILE --kind KIND --out FILE [--set name=value ...]
                      [--org ID] [--version V] [--signing-key PEM] [--json]
Renders the kind's config from the --set values and splices it into a copy of the base
archive. Writes OUT, OUT.sha256 (the signed statement, sha256sum -c format) and OUT.sig.
The signing key comes from --signing-key (PKCS#8 PEM) or the keyring in AGENTPACK_DATA_DIR
(default ./data, created on first use; its public key is written to signing-key.pem there).`;

export const run: Command = async (argv, io) => {
  const args = parseArgs(argv, {
    values: ['base', 'kind', 'out', 'org', 'version', 'signing-key', ...limitOptions],
    repeatable: ['set'],
    flags: ['json', 'help'],
  });
  if (args.options.has('help')) {
    print(io.stdout, help);
    return 0;
  }
  if (args.positionals.length > 0)
    throw new UsageError(`unexpected argument '${args.positionals[0]}' (see agentpack pack --help)`);
  const base = resolve(io.cwd, requireOption(args, 'base'));
  const out = resolve(io.cwd, requireOption(args, 'out'));
  const limits = limitsFromArgs(args, io.env);
  await checkOut(out, base);
  const [{ writeBundle }, { writeFileDurably }, { buildStatement, signStatement }, render] =
    await Promise.all([
      import('../../archive/bundle.js'),
      import('../../common/durable.js'),
      import('../../bundles/signature.js'),
      loadRender(),
    ]);
  const kind = await render.loadKind(requireOption(args, 'kind'));
  const config = render.renderConfig(kind, render.parseSetOptions(args.repeated.get('set') ?? []));
  const signer = await signingKey(stringOption(args, 'signing-key'), io.cwd, io.env);
  const written = await writeBundle(base, { path: kind.target, data: config }, out, { limits }).catch(
    (error: unknown) => {
      throw error instanceof ArchiveError ? new ArchiveError(`${basename(base)}: ${error.message}`) : error;
    },
  );
  const statement = buildStatement({
    sha256Hex: written.sha256,
    fileName: basename(out),
    orgId: stringOption(args, 'org') ?? 'offline',
    kind: kind.kind,
    version: stringOption(args, 'version') ?? 'unversioned',
    issuedAt: new Date(),
    keyId: signer.keyId,
  });
  const signature = signStatement(statement, signer);
  await Promise.all([
    writeFileDurably(`${out}.sha256`, statement, { component: 'pack' }),
    writeFileDurably(`${out}.sig`, signature, { component: 'pack' }),
  ]);
  if (args.options.has('json')) {
    print(
      io.stdout,
      JSON.stringify({
        out,
        sha256: written.sha256,
        size: written.size,
        keyId: signer.keyId,
        replaced: written.replaced,
        publicKey: signer.publicKeyFile,
      }),
    );
  } else {
    print(
      io.stdout,
      `${out}: ${written.size} bytes, sha256 ${written.sha256}${written.replaced ? ` (replaced ${kind.target})` : ''}`,
    );
    print(io.stdout, `signed by ${signer.keyId}: ${basename(out)}.sha256, ${basename(out)}.sig`);
    if (signer.publicKeyFile !== undefined)
      print(io.stdout, `verify: agentpack verify ${out} --key ${signer.publicKeyFile}`);
  }
  return 0;
};

/**
 * Where the bundle goes, checked before any work: a file name in an existing directory, never the
 * base itself (the bundle would replace the agent it was made from). Without this the failure
 * would come at the end, naming the hidden temp file.
 */
async function checkOut(out: string, base: string): Promise<void> {
  const [target, folder] = await Promise.all([
    stat(out).catch(() => null),
    stat(dirname(out)).catch(() => null),
  ]);
  if (folder === null || !folder.isDirectory())
    throw new UsageError(`--out ${out}: the directory ${dirname(out)} does not exist`);
  if (target?.isDirectory() === true)
    throw new UsageError(`--out ${out} is a directory; name the bundle file`);
  if (target === null) return;
  const source = await stat(base).catch(() => null);
  if (source !== null && source.dev === target.dev && source.ino === target.ino)
    throw new UsageError(`--out ${out} is the base itself; write the bundle to another file`);
}

/** The renderer (Handlebars and the kinds), loaded once the arguments have been accepted. */
async function loadRender() {
  const [kinds, render] = await Promise.all([
    import('../../render/kinds.js'),
    import('../../render/render.js'),
  ]);
  return {
    loadKind: kinds.loadKind,
    renderConfig: render.renderConfig,
    parseSetOptions: render.parseSetOptions,
  };
}

async function signingKey(
  pemPath: string | undefined,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<SigningKey & { publicKeyFile?: string }> {
  const [{ writeFileDurably }, { keyIdOf, publicKeyPem }, { openSigning }, { fileVault }] = await Promise.all(
    [
      import('../../common/durable.js'),
      import('../../bundles/signing-keys.js'),
      import('../../system/signing.js'),
      import('../../system/vault.js'),
    ],
  );
  if (pemPath !== undefined) {
    const privateKey = createPrivateKey(await readFile(resolve(cwd, pemPath)));
    if (privateKey.asymmetricKeyType !== 'ed25519')
      throw new UsageError(
        `--signing-key must be an Ed25519 private key, got ${privateKey.asymmetricKeyType}`,
      );
    const publicKey = createPublicKey(privateKey);
    return { keyId: keyIdOf(publicKey), privateKey, publicKey, createdAt: new Date().toISOString() };
  }
  const dir = (await import('../../config.js')).dataDirOf(env, cwd);
  const current = await (await openSigning(fileVault(dir), { now: Date.now })).current();
  const publicKeyFile = join(dir, 'signing-key.pem');
  const pem = publicKeyPem(current.publicKey);
  const existing = await readFile(publicKeyFile, 'utf8').catch(() => '');
  if (existing !== pem) await writeFileDurably(publicKeyFile, pem, { component: 'pack' });
  return { ...current, publicKeyFile };
}
