import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { formatIssuedAt } from '../../bundles/signature.js';
import { UsageError } from '../../common/errors.js';
import { parseArgs, stringOption } from '../args.js';
import type { Command } from '../io.js';
import { print } from '../io.js';

const help = `usage: agentpack download URL [-o FILE|DIR] [--key F|URL] [--no-resume] [--quiet] [--json]

Downloads a bundle, checks its signed statement and SHA-256, and only then puts it at FILE,
with FILE.sha256 and FILE.sig beside it (for 'sha256sum -c' and 'openssl pkeyutl -verify').

  URL           .../api/v1/orgs/ORG/agents/KIND/VERSION|latest/bundle (header authentication)
                or a signed link .../dl/TOKEN (no credentials needed)
  -o, --output  the file to write, or a directory to write the bundle under its own name
                (default: the current directory)
  --key F|URL   pin the public signing key: a PEM or JWKS file, or an http(s) URL serving one
                (default: AGENTPACK_SIGNING_KEY, else the server's /.well-known/agentpack/jwks.json;
                pinning also protects against a compromised server)
  --no-resume   start over instead of resuming an interrupted download, and keep nothing on failure
  --quiet       no progress output
  --json        print the result (or the failure) as one JSON object

Environment: AGENTPACK_AUTH (email:serviceKey, or its base64) and AGENTPACK_API_KEY (the
organization API key) for header authentication; they are never printed.

A download cut off by the network leaves .FILE.part to resume from; run the same command
again. When FILE and FILE.sha256 exist, the server is asked for the bundle only if it changed.

Exit status: 0 downloaded (or unchanged), 1 the bundle or its statement does not verify,
2 usage, 3 network or server error (including refused credentials and expired links),
130 interrupted (Ctrl-C; the partial download is removed).`;

export const run: Command = async (argv, io) => {
  const args = parseArgs(argv, {
    values: ['o', 'output', 'key'],
    flags: ['no-resume', 'quiet', 'json', 'help'],
  });
  if (args.options.has('help')) {
    print(io.stdout, help);
    return 0;
  }
  const [urlText, ...extra] = args.positionals;
  if (urlText === undefined || extra.length > 0)
    throw new UsageError(`download: expected one URL, found ${args.positionals.length} (try --help)`);
  // Loaded lazily: `agentpack --help` should not pay for the HTTP client.
  const { credentialsFromEnv } = await import('../../client/auth.js');
  const { downloadBundle } = await import('../../client/download.js');
  const { downloadExitCode, InterruptedError } = await import('../../client/errors.js');
  const { createProgress, silentProgress } = await import('../../client/progress.js');
  const { isSignedLink, requestedBundle } = await import('../../client/urls.js');

  const url = parseUrl(urlText);
  const output = await outputPath(stringOption(args, 'o') ?? stringOption(args, 'output'), io.cwd);
  const signedLink = isSignedLink(url);
  const credentials = signedLink ? undefined : credentialsFromEnv(io.env);
  if (credentials === undefined && requestedBundle(url) !== undefined)
    throw new UsageError(
      'no credentials: set AGENTPACK_AUTH (email:serviceKey) and AGENTPACK_API_KEY, or use a signed link',
    );
  const json = args.options.has('json');
  const quiet = args.options.has('quiet');
  const progress = quiet ? silentProgress : createProgress(io.stderr);
  const key = stringOption(args, 'key') || io.env.AGENTPACK_SIGNING_KEY || undefined;

  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new InterruptedError());
  process.once('SIGINT', onInterrupt);
  try {
    const result = await downloadBundle({
      url,
      ...output,
      cwd: io.cwd,
      ...(credentials === undefined ? {} : { credentials }),
      ...(key === undefined ? {} : { key }),
      resume: !args.options.has('no-resume'),
      progress,
      signal: controller.signal,
    });
    const shown = shownPath(result.path, io.cwd);
    const { sha256Hex, keyId, kind, version, orgId } = result;
    if (json) {
      const { size, fileName, unchanged, resumedFrom } = result;
      const issuedAt = formatIssuedAt(result.issuedAt);
      const fields = {
        file: shown,
        sha256: sha256Hex,
        size,
        fileName,
        orgId,
        kind,
        version,
        issuedAt,
        keyId,
      };
      print(io.stdout, JSON.stringify({ ok: true, ...fields, unchanged, resumedFrom }));
    } else {
      const status = result.unchanged ? 'unchanged' : 'OK';
      print(
        io.stdout,
        `${shown}: ${status} sha256 ${sha256Hex}, signed by ${keyId} (${kind} ${version}, org ${orgId})`,
      );
    }
    if (!quiet && basename(result.path) !== result.fileName)
      print(
        io.stderr,
        `note: the statement names the file ${result.fileName}; 'sha256sum -c' looks for that name`,
      );
    return 0;
  } catch (error) {
    const code = downloadExitCode(error);
    if (code === undefined || !(error instanceof Error)) throw error;
    const message =
      error instanceof InterruptedError ? 'interrupted; the partial download was removed' : error.message;
    if (json) {
      const errorCode = (error as { code?: string }).code ?? 'ERROR';
      print(io.stdout, JSON.stringify({ ok: false, code: errorCode, error: message }));
    }
    print(io.stderr, `agentpack: ${message}`);
    return code;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
};

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('download: expected an http(s) URL, found a malformed one');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`download: expected an http(s) URL, found a ${url.protocol} URL`);
  if (url.username !== '' || url.password !== '')
    throw new UsageError(
      'download: the URL holds credentials; put them in AGENTPACK_AUTH and AGENTPACK_API_KEY instead',
    );
  return url;
}

/** `-o FILE`, `-o DIR` (existing, or written with a trailing slash), or the current directory. */
async function outputPath(
  option: string | undefined,
  cwd: string,
): Promise<{ directory: string; fileName?: string }> {
  if (option === undefined || option === '') return { directory: cwd };
  const path = resolve(cwd, option);
  const stats = await stat(path).catch(() => undefined);
  const isDirectory = stats?.isDirectory() === true || /[/\\]$/.test(option);
  const directory = isDirectory ? path : dirname(path);
  const parent = isDirectory ? stats : await stat(directory).catch(() => undefined);
  if (parent?.isDirectory() !== true) throw new UsageError(`output directory ${directory} does not exist`);
  return isDirectory ? { directory } : { directory, fileName: basename(path) };
}

function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}
