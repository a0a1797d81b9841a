import { UsageError } from '../common/errors.js';

/**
 * Limits a base archive must stay within. Declared sizes are checked against them up front
 * and then enforced while inflating, so a lying header cannot get past them.
 */
export interface ArchiveLimits {
  /** Most entries an archive may hold. */
  readonly maxEntries: number;
  /** Largest archive file accepted, in bytes. */
  readonly maxArchiveBytes: number;
  /** Most bytes all entries may inflate to, together. */
  readonly maxTotalUncompressedBytes: number;
  /** Largest uncompressed/compressed ratio of one entry (entries under 1 MiB are exempt). */
  readonly maxCompressionRatio: number;
  /** Most bytes allowed before the first entry (self-extractor stubs, launch scripts). */
  readonly maxPreambleBytes: number;
}

export const defaultLimits: ArchiveLimits = Object.freeze({
  maxEntries: 250_000,
  maxArchiveBytes: 2 * 1024 ** 3,
  maxTotalUncompressedBytes: 8 * 1024 ** 3,
  maxCompressionRatio: 200,
  maxPreambleBytes: 1024 ** 2,
});

/** Entries that inflate to less than this are not ratio-checked: tiny files compress wildly. */
export const ratioExemptBytes = 1024 ** 2;

const envNames: Record<keyof ArchiveLimits, string> = {
  maxEntries: 'AGENTPACK_MAX_ENTRIES',
  maxArchiveBytes: 'AGENTPACK_MAX_ARCHIVE_BYTES',
  maxTotalUncompressedBytes: 'AGENTPACK_MAX_UNCOMPRESSED_BYTES',
  maxCompressionRatio: 'AGENTPACK_MAX_COMPRESSION_RATIO',
  maxPreambleBytes: 'AGENTPACK_MAX_PREAMBLE_BYTES',
};

/** Reads overrides from the environment; a malformed value is an error, not a silent default. */
export function limitsFromEnv(env: NodeJS.ProcessEnv, base: ArchiveLimits = defaultLimits): ArchiveLimits {
  const limits: Record<string, number> = { ...base };
  for (const [key, name] of Object.entries(envNames)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new UsageError(`${name} must be a non-negative integer, got '${raw.slice(0, 40)}'`);
    }
    limits[key] = value;
  }
  return limits as unknown as ArchiveLimits;
}
