import { UsageError } from '../common/errors.js';
import { echo } from '../common/validate.js';

/** The longest grace period an admin may choose. */
export const MAX_GRACE_SECONDS = 30 * 24 * 3600;

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `0`, `30s`, `15m`, `1h`, `24h`, `7d` -> seconds; at most 30 days. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,7})([smhd])?$/.exec(text.trim());
  if (match === null || (match[2] === undefined && match[1] !== '0')) {
    throw new UsageError(`expected a duration like 0, 30s, 15m, 1h, 24h or 7d; found '${echo(text)}'`);
  }
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1);
  return checkGraceSeconds(seconds);
}

export function checkGraceSeconds(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_GRACE_SECONDS) {
    throw new UsageError(`a grace period must be 0 to ${MAX_GRACE_SECONDS} seconds (30d); found ${seconds}`);
  }
  return seconds;
}
