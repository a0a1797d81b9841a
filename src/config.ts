import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { type ArchiveLimits, limitsFromEnv } from './archive/limits.js';
import { invalidConfiguration } from './common/errors.js';
import { AGENT_AUTH_CACHE_SECONDS } from './credentials/auth-cache.js';
import { type MasterKeySettings, parseMasterKeys } from './credentials/keyring.js';
import type { StoreTarget } from './storage/db/types.js';

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
  /** Who may set X-Forwarded-For: nobody, the nearest N proxies, or these addresses and CIDRs. */
  readonly trustProxy: TrustProxy;
  /** Request and failure limits (see RequestLimits). */
  readonly requestLimits: RequestLimits;
  /** The system admin created on first start (AGENTPACK_ADMIN_EMAIL). */
  readonly adminEmail: string;
  /** AGENTPACK_DB_TIMEOUT_MS: the longest one database call waits (also in `store`). */
  readonly dbTimeoutMs: number;
  /** AGENTPACK_DISK_MIN_FREE_BYTES: /readyz reports the disk as failed below this much free space. */
  readonly diskMinFreeBytes: number;
}

/**
 * `false`: the socket address is the client. A number: that many proxies in front (the client is
 * the address they saw, read right to left in X-Forwarded-For). A list: the addresses and CIDRs
 * of your proxies (and `loopback`, `linklocal`, `uniquelocal`); the client is the right-most
 * address in X-Forwarded-For not in the list.
 */
export type TrustProxy = false | number | readonly string[];

/** Per minute unless named otherwise; a rate of 0 turns that limit off. */
export interface RequestLimits {
  /** Bundle and config downloads, per credential (an agent's organization, a personal key, a user). */
  readonly downloadsPerMinute: number;
  /** Signed-link downloads (`/dl/*`): anonymous, so per client address. */
  readonly linkDownloadsPerMinute: number;
  /** Link creation, per credential. */
  readonly linksPerMinute: number;
  /** Sign-in requests, per client address. */
  readonly signInsPerMinute: number;
  /** Failed authentications per account (an e-mail, an agent's organization) in the window. */
  readonly authFailuresPerAccount: number;
  /** Failed authentications per client (an address; an IPv6 /64) in the window. */
  readonly authFailuresPerClient: number;
  readonly authFailureWindowSeconds: number;
  /** Distinct sets of render settings an organization's bundle records may hold. */
  readonly settingsSetsPerOrg: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  downloadsPerMinute: 120,
  linkDownloadsPerMinute: 120,
  linksPerMinute: 30,
  signInsPerMinute: 30,
  authFailuresPerAccount: 10,
  authFailuresPerClient: 50,
  authFailureWindowSeconds: 900,
  settingsSetsPerOrg: 100,
};

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
    throw invalidConfiguration('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const masterKeys = masterKeysOf(env);
  if (databaseUrl !== undefined && masterKeys.current === undefined) {
    throw invalidConfiguration(
      'AGENTPACK_MASTER_KEY is required when DATABASE_URL is set (base64 of 32 bytes)',
    );
  }
  const logLevel = (nonEmpty(env.AGENTPACK_LOG_LEVEL) ?? 'info') as AppConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel))
    throw invalidConfiguration(`AGENTPACK_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  let limits: ArchiveLimits;
  try {
    limits = limitsFromEnv(env);
  } catch (error) {
    throw invalidConfiguration((error as Error).message);
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
    trustProxy: trustProxyOf(env),
    requestLimits: requestLimitsOf(env),
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
    throw invalidConfiguration((error as Error).message);
  }
}

function s3Config(env: NodeJS.ProcessEnv): S3Config | undefined {
  const bucket = nonEmpty(env.AGENTPACK_S3_BUCKET);
  const endpoint = nonEmpty(env.AGENTPACK_S3_ENDPOINT);
  if (bucket === undefined) {
    if (endpoint !== undefined)
      throw invalidConfiguration('AGENTPACK_S3_ENDPOINT is set but AGENTPACK_S3_BUCKET is not');
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw invalidConfiguration(`AGENTPACK_S3_BUCKET '${bucket.slice(0, 64)}' is not a valid bucket name`);
  if (endpoint !== undefined) parseUrl(endpoint, 'AGENTPACK_S3_ENDPOINT');
  const prefix = nonEmpty(env.AGENTPACK_S3_PREFIX) ?? '';
  if (prefix !== '' && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/.test(prefix)) {
    throw invalidConfiguration('AGENTPACK_S3_PREFIX may hold letters, digits, ".", "_", "-" and "/" only');
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

function requestLimitsOf(env: NodeJS.ProcessEnv): RequestLimits {
  const d = DEFAULT_REQUEST_LIMITS;
  const rate = (name: string, fallback: number) => integer(env, name, fallback, 0, 1_000_000);
  return {
    downloadsPerMinute: rate('AGENTPACK_RATE_DOWNLOADS', d.downloadsPerMinute),
    linkDownloadsPerMinute: rate('AGENTPACK_RATE_LINK_DOWNLOADS', d.linkDownloadsPerMinute),
    linksPerMinute: rate('AGENTPACK_RATE_LINKS', d.linksPerMinute),
    signInsPerMinute: rate('AGENTPACK_RATE_SIGNINS', d.signInsPerMinute),
    authFailuresPerAccount: integer(
      env,
      'AGENTPACK_AUTH_FAILURES_PER_ACCOUNT',
      d.authFailuresPerAccount,
      1,
      1_000_000,
    ),
    authFailuresPerClient: integer(
      env,
      'AGENTPACK_AUTH_FAILURES_PER_CLIENT',
      d.authFailuresPerClient,
      1,
      1_000_000,
    ),
    authFailureWindowSeconds: integer(
      env,
      'AGENTPACK_AUTH_FAILURE_WINDOW_SECONDS',
      d.authFailureWindowSeconds,
      1,
      86_400,
    ),
    settingsSetsPerOrg: integer(env, 'AGENTPACK_SETTINGS_SETS_PER_ORG', d.settingsSetsPerOrg, 1, 100_000),
  };
}

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const MAX_PROXY_HOPS = 10;

/**
 * `true` used to trust every X-Forwarded-For entry, so the left-most one, which any client
 * writes, became the address limits and the audit use. It now means one proxy in front: the
 * right-most entry, which that proxy appended, is the client.
 */
function trustProxyOf(env: NodeJS.ProcessEnv): TrustProxy {
  const name = 'AGENTPACK_TRUST_PROXY';
  const raw = nonEmpty(env[name]);
  if (raw === undefined || /^(0|false|no)$/i.test(raw)) return false;
  if (/^(true|yes)$/i.test(raw)) return 1;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > MAX_PROXY_HOPS)
      throw invalidConfiguration(`${name} as a hop count must be 1 to ${MAX_PROXY_HOPS}, got ${raw}`);
    return hops;
  }
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (!TRUST_PROXY_NAMES.has(entry) && !isAddressOrCidr(entry))
      throw invalidConfiguration(
        `${name} must be false, a hop count, or proxy addresses/CIDRs separated by commas; '${entry.slice(0, 60)}' is none of these`,
      );
  }
  return entries;
}

function isAddressOrCidr(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function adminEmail(env: NodeJS.ProcessEnv): string {
  const raw = nonEmpty(env.AGENTPACK_ADMIN_EMAIL);
  if (raw === undefined) return DEFAULT_ADMIN_EMAIL;
  const email = raw.toLowerCase();
  if (email.length > 254 || !/^[^\s@:,;<>"()[\]\\]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(email))
    throw invalidConfiguration(`AGENTPACK_ADMIN_EMAIL must be an e-mail address, got '${raw.slice(0, 80)}'`);
  return email;
}

function parsePublicUrl(text: string): string {
  const url = parseUrl(text, 'AGENTPACK_PUBLIC_URL');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalidConfiguration('AGENTPACK_PUBLIC_URL must not carry credentials, a query or a fragment');
  }
  return url.href.replace(/\/+$/, '');
}

function parseUrl(text: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidConfiguration(`${name} must be an absolute http(s) URL, got '${text.slice(0, 80)}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidConfiguration(`${name} must use http or https, got '${url.protocol}'`);
  return url;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidConfiguration(`${name} must be an integer from ${min} to ${max}, got '${raw.slice(0, 40)}'`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return false;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw invalidConfiguration(`${name} must be true or false, got '${raw.slice(0, 40)}'`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
