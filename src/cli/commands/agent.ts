import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { ArchiveError, UsageError } from '../../common/errors.js';
import { type ParsedArgs, parseArgs, requireOption, stringOption } from '../args.js';
import type { CliIo, Command } from '../io.js';
import { print } from '../io.js';
import { openCliServices } from '../services.js';

const help = `usage: agentpack agent add FILE --kind K --version V [--server URL] [--quiet] [--json]
       agentpack agent withdraw --kind K --version V [--restore]
       agentpack agent list
Adds a base agent archive to the catalog of the configured store (AGENTPACK_DATA_DIR, or
DATABASE_URL + AGENTPACK_S3_BUCKET), or with --server URL uploads it to a running service as a
system admin (AGENTPACK_AUTH=email:serviceKey and AGENTPACK_API_KEY, as for download).
The archive is validated completely first; a hostile or broken one is refused with the reason
(exit 2) and nothing is stored. Progress goes to stderr (--quiet: none). With --server, refused
credentials or an unreachable server exit 3, and Ctrl-C exits 130 with nothing stored.`;

/** Smaller files are added before a progress line would be worth reading. */
const LOCAL_PROGRESS_MIN_BYTES = 8 * 1024 * 1024;

interface Added {
  readonly kind: string;
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
  readonly entryCount: number;
}

export const run: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    print(sub === undefined ? io.stderr : io.stdout, help);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'add' && sub !== 'withdraw' && sub !== 'list')
    throw new UsageError(`unknown subcommand 'agent ${sub}' (add, withdraw, list)`);
  const args = parseArgs(rest, {
    values: ['kind', 'version', 'server'],
    flags: ['json', 'restore', 'quiet'],
  });
  if (sub === 'add' && args.positionals.length !== 1)
    throw new UsageError('agent add takes exactly one FILE');
  if (sub !== 'add' && args.positionals.length > 0)
    throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  if (sub !== 'add' && args.options.has('server'))
    throw new UsageError(`--server works with 'agent add' only`);
  if (sub === 'add') return add(args, io);

  const { services, layer } = await openCliServices(io);
  try {
    if (sub === 'list') {
      for (const kind of await layer.catalog.list({ includeWithdrawn: true })) {
        for (const v of kind.versions)
          print(
            io.stdout,
            `${kind.kind}\t${v.version}\t${v.withdrawn ? 'withdrawn' : v.version === kind.latest ? 'latest' : ''}\t${v.sha256}`,
          );
      }
      return 0;
    }
    const row = await layer.catalog.setWithdrawn(
      requireOption(args, 'kind'),
      requireOption(args, 'version'),
      !args.options.has('restore'),
    );
    print(io.stdout, `${row.kind} ${row.version}: ${row.withdrawnAt === null ? 'restored' : 'withdrawn'}`);
    return 0;
  } finally {
    await services.close();
  }
};

async function add(args: ParsedArgs, io: CliIo): Promise<number> {
  const file = resolve(io.cwd, args.positionals[0] as string);
  const kind = requireOption(args, 'kind');
  const version = requireOption(args, 'version');
  const info = await stat(file);
  if (!info.isFile()) throw new UsageError(`${file}: not a regular file`);
  const server = stringOption(args, 'server');
  const added =
    server === undefined
      ? await addLocally(file, info.size, kind, version, args, io)
      : await addRemotely(server, file, info.size, kind, version, args, io);
  if (typeof added === 'number') return added;
  if (args.options.has('json')) {
    const { sha256, size, entryCount } = added;
    print(io.stdout, JSON.stringify({ kind: added.kind, version: added.version, sha256, size, entryCount }));
  } else
    print(
      io.stdout,
      `added ${added.kind} ${added.version}${server === undefined ? '' : ` to ${new URL(server).origin}`}: ${added.entryCount} entries, ${added.size} bytes, sha256 ${added.sha256}`,
    );
  return 0;
}

async function addLocally(
  file: string,
  size: number,
  kind: string,
  version: string,
  args: ParsedArgs,
  io: CliIo,
): Promise<Added | number> {
  const { services, layer } = await openCliServices(io);
  const { InterruptedError } = await import('../../client/errors.js');
  const source = createReadStream(file);
  // Ctrl-C while the archive is read: the catalog drops its spool file and stores nothing.
  const onInterrupt = () => source.destroy(new InterruptedError());
  process.once('SIGINT', onInterrupt);
  try {
    const row = await layer.catalog
      .add(
        kind,
        version,
        await withProgress(source, file, size, args, io),
        `cli:${process.env.USER ?? 'local'}`,
      )
      .catch((error: unknown) => {
        throw error instanceof ArchiveError ? new ArchiveError(`${basename(file)}: ${error.message}`) : error;
      });
    await services.credentials.audit({
      orgId: null,
      actor: 'cli',
      action: 'agent.uploaded',
      detail: { kind: row.kind, version: row.version, sha256: row.sha256 },
    });
    return row;
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    print(io.stderr, 'agentpack: interrupted; nothing was stored');
    return 130;
  } finally {
    process.off('SIGINT', onInterrupt);
    await services.close();
  }
}

/** The file as it is read, counted for a progress bar when it is big enough to wait for. */
async function withProgress(
  source: Readable,
  file: string,
  size: number,
  args: ParsedArgs,
  io: CliIo,
): Promise<Readable> {
  if (args.options.has('quiet') || size < LOCAL_PROGRESS_MIN_BYTES) return source;
  const { createProgress } = await import('../../client/progress.js');
  const progress = createProgress(io.stderr, undefined, {
    starting: 'reading',
    resuming: 'reading',
    finished: 'read',
  });
  progress.start(basename(file), size, 0);
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      progress.advance(chunk.length);
      done(null, chunk);
    },
    flush(done) {
      progress.finish();
      done();
    },
  });
  source.once('error', (error) => {
    progress.stop();
    counted.destroy(error);
  });
  // The catalog gave up on the upload (too large, say): stop reading the file.
  counted.once('close', () => source.destroy());
  return source.pipe(counted);
}

/** `--server URL`: streams the file to the service's catalog; exit 3 for network or server failures. */
async function addRemotely(
  server: string,
  file: string,
  size: number,
  kind: string,
  version: string,
  args: ParsedArgs,
  io: CliIo,
): Promise<Added | number> {
  const [{ credentialsFromEnv }, { uploadAgent }, { downloadExitCode, InterruptedError }, progressModule] =
    await Promise.all([
      import('../../client/auth.js'),
      import('../../client/upload.js'),
      import('../../client/errors.js'),
      import('../../client/progress.js'),
    ]);
  const url = serverUrl(server);
  const credentials = credentialsFromEnv(io.env);
  if (credentials === undefined)
    throw new UsageError(
      "agent add --server: no credentials: set AGENTPACK_AUTH (a system admin's email:serviceKey) and AGENTPACK_API_KEY",
    );
  const progress = args.options.has('quiet')
    ? progressModule.silentProgress
    : progressModule.createProgress(io.stderr, undefined, progressModule.UPLOAD_WORDS);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new InterruptedError());
  process.once('SIGINT', onInterrupt);
  try {
    const stored = await uploadAgent({
      server: url,
      kind,
      version,
      file,
      size,
      credentials,
      progress,
      signal: controller.signal,
    });
    return { kind, ...stored };
  } catch (error) {
    const code = downloadExitCode(error);
    // Refusals of the archive itself (ArchiveError, UsageError) are reported by the CLI: exit 2.
    if (code === undefined || code === 2 || !(error instanceof Error)) throw error;
    const message =
      error instanceof InterruptedError ? 'interrupted; the server stored nothing' : error.message;
    print(io.stderr, `agentpack: ${message}`);
    return code;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

function serverUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('--server: expected an http(s) URL, found a malformed one');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--server: expected an http(s) URL, found a ${url.protocol} URL`);
  if (url.username !== '' || url.password !== '')
    throw new UsageError(
      '--server: the URL holds credentials; put them in AGENTPACK_AUTH and AGENTPACK_API_KEY instead',
    );
  return url;
}
