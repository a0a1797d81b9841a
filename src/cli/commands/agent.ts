import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ArchiveError, UsageError } from '../../errors.js';
import { parseArgs, requireOption } from '../args.js';
import type { Command } from '../io.js';
import { print } from '../io.js';
import { openCliServices } from '../services.js';

const help = `usage: agentpack agent add FILE --kind K --version V
       agentpack agent withdraw --kind K --version V [--restore]
       agentpack agent list
Adds a base agent archive to the catalog of the configured store (AGENTPACK_DATA_DIR, or
DATABASE_URL + AGENTPACK_S3_BUCKET). The archive is validated completely first; a hostile or
broken one is refused with the reason and nothing is stored.`;

export const run: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === 'help') {
    print(sub === undefined ? io.stderr : io.stdout, help);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'add' && sub !== 'withdraw' && sub !== 'list')
    throw new UsageError(`unknown subcommand 'agent ${sub}' (add, withdraw, list)`);
  const args = parseArgs(rest, { values: ['kind', 'version'], flags: ['json', 'restore'] });
  if (sub === 'add' && args.positionals.length !== 1)
    throw new UsageError('agent add takes exactly one FILE');
  if (sub !== 'add' && args.positionals.length > 0)
    throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  const file = sub === 'add' ? resolve(io.cwd, args.positionals[0] as string) : '';
  if (sub === 'add') {
    const info = await stat(file);
    if (!info.isFile()) throw new UsageError(`${file}: not a regular file`);
  }
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
    const kind = requireOption(args, 'kind');
    const version = requireOption(args, 'version');
    if (sub === 'withdraw') {
      const row = await layer.catalog.setWithdrawn(kind, version, !args.options.has('restore'));
      print(io.stdout, `${row.kind} ${row.version}: ${row.withdrawnAt === null ? 'restored' : 'withdrawn'}`);
      return 0;
    }
    const row = await layer.catalog
      .add(kind, version, createReadStream(file), `cli:${process.env.USER ?? 'local'}`)
      .catch((error: unknown) => {
        throw error instanceof ArchiveError ? new ArchiveError(`${basename(file)}: ${error.message}`) : error;
      });
    await services.credentials.audit({
      orgId: null,
      actor: 'cli',
      action: 'agent.uploaded',
      detail: { kind: row.kind, version: row.version, sha256: row.sha256 },
    });
    if (args.options.has('json'))
      print(
        io.stdout,
        JSON.stringify({
          kind: row.kind,
          version: row.version,
          sha256: row.sha256,
          size: row.size,
          entryCount: row.entryCount,
        }),
      );
    else
      print(
        io.stdout,
        `added ${row.kind} ${row.version}: ${row.entryCount} entries, ${row.size} bytes, sha256 ${row.sha256}`,
      );
    return 0;
  } finally {
    await services.close();
  }
};
