import { type ArchiveLimits, limitsFromEnv } from '../../archive/limits.js';
import { UsageError } from '../../common/errors.js';
import type { ParsedArgs } from '../args.js';
import { stringOption } from '../args.js';

/** Options that override archive limits; environment variables give the defaults. */
export const limitOptions = [
  'max-entries',
  'max-size',
  'max-uncompressed',
  'max-ratio',
  'max-preamble',
] as const;

const fields: Record<(typeof limitOptions)[number], keyof ArchiveLimits> = {
  'max-entries': 'maxEntries',
  'max-size': 'maxArchiveBytes',
  'max-uncompressed': 'maxTotalUncompressedBytes',
  'max-ratio': 'maxCompressionRatio',
  'max-preamble': 'maxPreambleBytes',
};

export function limitsFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv): ArchiveLimits {
  const limits: Record<string, number> = { ...limitsFromEnv(env) };
  for (const option of limitOptions) {
    const raw = stringOption(args, option);
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new UsageError(`--${option} must be a non-negative integer, got '${raw.slice(0, 40)}'`);
    limits[fields[option]] = value;
  }
  return limits as unknown as ArchiveLimits;
}
