import { basename, resolve } from 'node:path';
import type { ArchiveSummary } from '../../archive/inspect.js';
import { inspectArchive } from '../../archive/inspect.js';
import { ArchiveError, UsageError } from '../../common/errors.js';
import { listKinds, loadKind } from '../../render/kinds.js';
import { parseArgs, stringOption } from '../args.js';
import type { Command } from '../io.js';
import { print } from '../io.js';
import { limitOptions, limitsFromArgs } from './limits-options.js';

const help = `usage: agentpack inspect FILE [--kind K] [--json] [--max-entries N] [--max-size BYTES]
                         [--max-uncompressed BYTES] [--max-ratio N] [--max-preamble BYTES]
Validates a base agent archive (every entry is inflated and checked) and summarizes it.
Exit 0 when valid; exit 2 with the reason when it must not be used as a base.`;

export const run: Command = async (argv, io) => {
  const args = parseArgs(argv, { values: ['kind', ...limitOptions], flags: ['json', 'help'] });
  if (args.options.has('help')) {
    print(io.stdout, help);
    return 0;
  }
  const [file, ...extra] = args.positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('inspect takes exactly one FILE (see agentpack inspect --help)');
  const limits = limitsFromArgs(args, io.env);
  const kindName = stringOption(args, 'kind');
  const targets =
    kindName === undefined ? (await listKinds()).map((k) => k.target) : [(await loadKind(kindName)).target];
  const { summary, structure } = await inspectArchive(resolve(io.cwd, file), {
    limits,
    verifyData: true,
  }).catch((error: unknown) => {
    throw error instanceof ArchiveError ? new ArchiveError(`${basename(file)}: ${error.message}`) : error;
  });
  const names = new Set(structure.records.map((record) => record.name));
  const present = targets.filter((target) => names.has(target));
  if (args.options.has('json')) {
    print(io.stdout, JSON.stringify({ file, valid: true, ...summary, configEntries: present }, null, 2));
  } else {
    print(io.stdout, formatSummary(file, summary, targets, present));
  }
  return 0;
};

function formatSummary(file: string, s: ArchiveSummary, targets: string[], present: string[]): string {
  const rows: Array<[string, string]> = [
    ['entries', `${s.entryCount}${s.zip64 ? ' (zip64)' : ''}`],
    ['size', `${bytes(s.fileSize)} file, ${bytes(s.uncompressedBytes)} uncompressed`],
    ['manifest', s.manifestFirst ? 'META-INF/MANIFEST.MF first' : 'no manifest first'],
    ['Premain-Class', s.premainClass ?? '(none)'],
    ['signed jar', s.signatureFiles.length > 0 ? `yes (${s.signatureFiles.join(', ')})` : 'no'],
    [
      'config entry',
      present.length > 0
        ? `${present.join(', ')} present (replaced when bundling)`
        : `absent (${targets.join(', ')})`,
    ],
  ];
  if (s.preambleBytes > 0)
    rows.push(['preamble', `${s.preambleBytes} bytes before the first entry (kept unchanged)`]);
  if (s.commentBytes > 0) rows.push(['comment', `${s.commentBytes} bytes (kept)`]);
  return [`${file}: valid`, ...rows.map(([k, v]) => `  ${k.padEnd(14)}${v}`)].join('\n');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
