import type { Store } from '../storage/db/types.js';
import type { MasterKeyring } from './keyring.js';
import type { Logger } from './types.js';

/** What every credentials operation needs; `now` is injected so tests can move time. */
export interface CredentialsContext {
  readonly store: Store;
  readonly keyring: MasterKeyring;
  readonly now: () => number;
  readonly log: Logger;
}

export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  debug: () => {},
};

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
