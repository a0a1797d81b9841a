import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileDurably } from '../common/durable.js';
import { ConfigError } from '../common/errors.js';

/**
 * The master keys that seal stored secrets. Records name the key that sealed them, so
 * older keys can stay readable while `agentpack keys rewrap` moves records to the current one.
 */
export interface MasterKeyring {
  readonly currentId: string;
  key(id: string): Buffer | undefined;
  ids(): string[];
}

export const MASTER_KEY_FILE = 'master.key';

/** Builds a keyring from raw 32-byte keys; the first is current. Ids derive from the keys. */
export function keyringFrom(current: Buffer, older: readonly Buffer[] = []): MasterKeyring {
  const keys = new Map<string, Buffer>();
  for (const key of [current, ...older]) keys.set(masterKeyId(key), key);
  const currentId = masterKeyId(current);
  return { currentId, key: (id) => keys.get(id), ids: () => [...keys.keys()] };
}

/** A stable, non-secret id for a master key: 64 bits of a domain-separated hash. */
export function masterKeyId(key: Buffer): string {
  return `mk_${createHash('sha256').update('agentpack master key id\0').update(key).digest('hex').slice(0, 16)}`;
}

/** The master keys named by the environment, checked at start (see config.ts). */
export interface MasterKeySettings {
  /** `AGENTPACK_MASTER_KEY`; absent on the embedded default, which keeps `master.key` instead. */
  readonly current?: Buffer;
  /** `AGENTPACK_MASTER_KEYS_OLD`: keys still readable until `agentpack keys rewrap` moves records. */
  readonly older: readonly Buffer[];
}

/**
 * `AGENTPACK_MASTER_KEY` (base64 of 32 bytes) is the current key and
 * `AGENTPACK_MASTER_KEYS_OLD` (comma-separated, same encoding) lists keys still readable.
 */
export function parseMasterKeys(env: NodeJS.ProcessEnv): MasterKeySettings {
  const older = parseKeyList(env.AGENTPACK_MASTER_KEYS_OLD, 'AGENTPACK_MASTER_KEYS_OLD');
  const current = env.AGENTPACK_MASTER_KEY;
  if (current === undefined || current.trim() === '') return { older };
  return { current: decodeMasterKey(current, 'AGENTPACK_MASTER_KEY'), older };
}

/**
 * The configured keyring; without a configured current key, the embedded default reads
 * `<dataDir>/master.key`, creating it (mode 0600).
 */
export async function loadMasterKeyring(
  settings: MasterKeySettings,
  dataDir?: string,
): Promise<MasterKeyring> {
  if (settings.current !== undefined) return keyringFrom(settings.current, settings.older);
  if (dataDir === undefined) {
    throw new ConfigError('AGENTPACK_MASTER_KEY is required when DATABASE_URL is set (base64 of 32 bytes)');
  }
  return keyringFrom(await readOrCreateKeyFile(join(dataDir, MASTER_KEY_FILE)), settings.older);
}

function parseKeyList(value: string | undefined, name: string): Buffer[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((part, i) => decodeMasterKey(part.trim(), `${name} entry ${i + 1}`));
}

/** Strict base64; the error names the variable and the length found, never the value. */
export function decodeMasterKey(text: string, name: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
    throw new ConfigError(`${name} must be base64 of 32 bytes; found text that is not base64`);
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== 32)
    throw new ConfigError(`${name} must be base64 of 32 bytes; found ${key.length} bytes`);
  return key;
}

async function readOrCreateKeyFile(file: string): Promise<Buffer> {
  try {
    return await readKeyFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await createKeyFile(file);
  return readKeyFile(file);
}

async function readKeyFile(file: string): Promise<Buffer> {
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8);
    throw new ConfigError(`${file} must be readable by its owner only (mode 600); found mode ${mode}`);
  }
  return decodeMasterKey(await readFile(file, 'utf8'), file);
}

/**
 * An exclusive durable write: the finished temp file is hard-linked into place, which fails if
 * another process got there first (we then read its key), and nobody ever reads a half-written key.
 */
async function createKeyFile(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const key = `${randomBytes(32).toString('base64')}\n`;
  try {
    await writeFileDurably(file, key, { component: 'master key', mode: 0o600, exclusive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
