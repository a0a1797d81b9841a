import { resolve } from 'node:path';
import { type ArchiveLimits, limitsFromEnv } from './archive/limits.js';
import { AGENT_AUTH_CACHE_SECONDS } from './credentials/auth-cache.js';
import { type MasterKeySettings, parseMasterKeys } from './credentials/keyring.js';
import { AgentpackError } from './errors.js';
import type { StoreTarget } from './storage/db/types.js';

/** Configuration the process cannot start with; the message names the variable, never a secret. */
export class InvalidConfigError extends AgentpackError {
  constructor(message: string) {
    super('CONFIG_INVALID', `invalid configuration: ${message}`, 400);
    this.name = 'InvalidConfigError';
  }
}

export interface S3Config {
  readonly bucket: string;
  readonly endpoint?: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** Key prefix inside the bucket ('' or ending in '/'), so several deployments can share one. */
  readonly prefix: string;
  /** AGENTPACK_S3_TIMEOUT_MS: the longest one S3 call waits (connect, answer, a stalled body). */
  readonly timeoutMs: number;
  /** Static keys from the environment; absent, the SDK's own chain (profiles, roles) applies. */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Written into agent configs and links; no trailing slash. */
  readonly publicUrl: string;
  /** True when AGENTPACK_PUBLIC_URL is unset and publicUrl was made from HOST and PORT. */
  readonly publicUrlDerived: boolean;
  readonly databaseUrl?: string;
  /** Where the one metadata store lives: the SQLite file in the data dir, or DATABASE_URL. */
  readonly store: StoreTarget;
  /** AGENTPACK_MASTER_KEY and AGENTPACK_MASTER_KEYS_OLD, decoded. */
  readonly masterKeys: MasterKeySettings;
  readonly s3?: S3Config;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly limits: ArchiveLimits;
  readonly linkMaxTtlSeconds: number;
  /** How long an instance keeps agent logins it verified (0: off); see credentials/auth-cache.ts. */
  readonly agentAuthCacheSeconds: number;
  readonly trustProxy: boolean;
  /** The system admin created on first start (AGENTPACK_ADMIN_EMAIL). */
  readonly adminEmail: string;
  /** AGENTPACK_DB_TIMEOUT_MS: the longest one database call waits (also in `store`). */
  readonly dbTimeoutMs: number;
  /** AGENTPACK_DISK_MIN_FREE_BYTES: /readyz reports the disk as failed below this much free space. */
  readonly diskMinFreeBytes: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LINK_MAX_TTL_SECONDS = 7 * 24 * 3600;
/** A revoked key may keep working this long at most on other instances; more would not be a cache but a policy. */
const MAX_AGENT_AUTH_CACHE_SECONDS = 60;
export const DEFAULT_ADMIN_EMAIL = 'admin@agentpack.local';
export const DEFAULT_DB_TIMEOUT_MS = 5000;
export const DEFAULT_S3_TIMEOUT_MS = 10_000;
export const DEFAULT_DISK_MIN_FREE_BYTES = 8 * 1024 * 1024;
/** Timeouts are bounded: a few ms would fail every call, more than 10 minutes is no bound. */
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 10 * 60_000;

/**
 * Reads and checks the environment once, at boot: nothing else reads configuration from the
 * environment. `cwd` resolves a relative AGENTPACK_DATA_DIR.
 */
export function loadConfig(env: NodeJS.ProcessEnv, cwd: string): AppConfig {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = nonEmpty(env.HOST) ?? '127.0.0.1';
  const dataDir = dataDirOf(env, cwd);
  const explicitUrl = nonEmpty(env.AGENTPACK_PUBLIC_URL);
  const publicUrl = parsePublicUrl(explicitUrl ?? derivedPublicUrl(host, port));
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new InvalidConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const masterKeys = masterKeysOf(env);
  if (databaseUrl !== undefined && masterKeys.current === undefined) {
    throw new InvalidConfigError(
      'AGENTPACK_MASTER_KEY is required when DATABASE_URL is set (base64 of 32 bytes)',
    );
  }
  const logLevel = (nonEmpty(env.AGENTPACK_LOG_LEVEL) ?? 'info') as AppConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel))
    throw new InvalidConfigError(`AGENTPACK_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  let limits: ArchiveLimits;
  try {
    limits = limitsFromEnv(env);
  } catch (error) {
    throw new InvalidConfigError((error as Error).message);
  }
  const s3 = s3Config(env);
  const dbTimeoutMs = integer(
    env,
    'AGENTPACK_DB_TIMEOUT_MS',
    DEFAULT_DB_TIMEOUT_MS,
    MIN_TIMEOUT_MS,
    MAX_TIMEOUT_MS,
  );
  return {
    port,
    host,
    dataDir,
    publicUrl,
    publicUrlDerived: explicitUrl === undefined,
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    store:
      databaseUrl === undefined
        ? { dataDir, timeoutMs: dbTimeoutMs }
        : { databaseUrl, timeoutMs: dbTimeoutMs },
    masterKeys,
    ...(s3 === undefined ? {} : { s3 }),
    logLevel,
    limits,
    linkMaxTtlSeconds: integer(
      env,
      'AGENTPACK_LINK_MAX_TTL_SECONDS',
      LINK_MAX_TTL_SECONDS,
      1,
      LINK_MAX_TTL_SECONDS,
    ),
    agentAuthCacheSeconds: integer(
      env,
      'AGENTPACK_AGENT_AUTH_CACHE_SECONDS',
      AGENT_AUTH_CACHE_SECONDS,
      0,
      MAX_AGENT_AUTH_CACHE_SECONDS,
    ),
    trustProxy: flag(env, 'AGENTPACK_TRUST_PROXY'),
    adminEmail: adminEmail(env),
    dbTimeoutMs,
    diskMinFreeBytes: integer(
      env,
      'AGENTPACK_DISK_MIN_FREE_BYTES',
      DEFAULT_DISK_MIN_FREE_BYTES,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

/**
 * The configuration with the port the server really got (PORT=0 asks for any free one): a
 * public URL made from HOST and PORT names that port.
 */
export function atPort(config: AppConfig, port: number): AppConfig {
  if (!config.publicUrlDerived) return { ...config, port };
  return { ...config, port, publicUrl: parsePublicUrl(derivedPublicUrl(config.host, port)) };
}

/**
 * `AGENTPACK_DATA_DIR` (default `./data`; empty counts as unset), resolved against `cwd`. Also
 * used alone by offline commands (`agentpack pack`) that need no other configuration.
 */
export function dataDirOf(env: NodeJS.ProcessEnv, cwd: string): string {
  return resolve(cwd, nonEmpty(env.AGENTPACK_DATA_DIR) ?? 'data');
}

function derivedPublicUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function masterKeysOf(env: NodeJS.ProcessEnv): MasterKeySettings {
  try {
    return parseMasterKeys(env);
  } catch (error) {
    throw new InvalidConfigError((error as Error).message);
  }
}

function s3Config(env: NodeJS.ProcessEnv): S3Config | undefined {
  const bucket = nonEmpty(env.AGENTPACK_S3_BUCKET);
  const endpoint = nonEmpty(env.AGENTPACK_S3_ENDPOINT);
  if (bucket === undefined) {
    if (endpoint !== undefined)
      throw new InvalidConfigError('AGENTPACK_S3_ENDPOINT is set but AGENTPACK_S3_BUCKET is not');
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new InvalidConfigError(`AGENTPACK_S3_BUCKET '${bucket.slice(0, 64)}' is not a valid bucket name`);
  if (endpoint !== undefined) parseUrl(endpoint, 'AGENTPACK_S3_ENDPOINT');
  const prefix = nonEmpty(env.AGENTPACK_S3_PREFIX) ?? '';
  if (prefix !== '' && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/.test(prefix)) {
    throw new InvalidConfigError('AGENTPACK_S3_PREFIX may hold letters, digits, ".", "_", "-" and "/" only');
  }
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return {
    bucket,
    ...(endpoint === undefined ? {} : { endpoint }),
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    forcePathStyle: endpoint !== undefined || flag(env, 'AGENTPACK_S3_FORCE_PATH_STYLE'),
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    timeoutMs: integer(env, 'AGENTPACK_S3_TIMEOUT_MS', DEFAULT_S3_TIMEOUT_MS, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS),
    ...(accessKeyId !== undefined && secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(sessionToken === undefined ? {} : { sessionToken }),
          },
        }
      : {}),
  };
}

function adminEmail(env: NodeJS.ProcessEnv): string {
  const raw = nonEmpty(env.AGENTPACK_ADMIN_EMAIL);
  if (raw === undefined) return DEFAULT_ADMIN_EMAIL;
  const email = raw.toLowerCase();
  if (email.length > 254 || !/^[^\s@:,;<>"()[\]\\]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(email))
    throw new InvalidConfigError(
      `AGENTPACK_ADMIN_EMAIL must be an e-mail address, got '${raw.slice(0, 80)}'`,
    );
  return email;
}

function parsePublicUrl(text: string): string {
  const url = parseUrl(text, 'AGENTPACK_PUBLIC_URL');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new InvalidConfigError('AGENTPACK_PUBLIC_URL must not carry credentials, a query or a fragment');
  }
  return url.href.replace(/\/+$/, '');
}

function parseUrl(text: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidConfigError(`${name} must be an absolute http(s) URL, got '${text.slice(0, 80)}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidConfigError(`${name} must use http or https, got '${url.protocol}'`);
  return url;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidConfigError(
      `${name} must be an integer from ${min} to ${max}, got '${raw.slice(0, 40)}'`,
    );
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return false;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new InvalidConfigError(`${name} must be true or false, got '${raw.slice(0, 40)}'`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
