import { resolve } from 'node:path';
import type { MetadataTarget } from './metadata/types.js';

export const DEFAULT_DATA_DIR = './data';

/** `AGENTPACK_DATA_DIR` (default `./data`), resolved against the working directory. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv, cwd: string): string {
  const dir = env.AGENTPACK_DATA_DIR;
  return resolve(cwd, dir === undefined || dir === '' ? DEFAULT_DATA_DIR : dir);
}

/** `DATABASE_URL` selects PostgreSQL; unset, the embedded SQLite file in the data directory. */
export function metadataTargetFromEnv(env: NodeJS.ProcessEnv, cwd: string): MetadataTarget {
  const url = env.DATABASE_URL;
  if (url !== undefined && url !== '') return { databaseUrl: url };
  return { dataDir: dataDirFromEnv(env, cwd) };
}
