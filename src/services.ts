import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BundleLayer } from './bundles/layer.js';
import type { AppConfig } from './config.js';
import type { Credentials } from './credentials/credentials.js';
import { unseal } from './credentials/envelope.js';
import { loadMasterKeyring, type MasterKeyring } from './credentials/keyring.js';
import { openCredentials } from './credentials/open.js';
import type { Logger } from './credentials/types.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { BlobStore } from './storage/blob/types.js';
import { metadataTargetFromEnv } from './storage/config.js';
import type { MetadataStore } from './storage/metadata/types.js';
import { openSystemStore } from './storage/system/open.js';
import type { SystemStore } from './storage/system/types.js';
import { openLinkKey, openSigning, type SigningService } from './system/signing.js';
import { fileVault, storeVault } from './system/vault.js';

/** The catalog and bundle service (src/bundles/layer.ts); HTTP routes read `app.services.bundles`. */
export type { BundleLayer as BundleService } from './bundles/layer.js';

/** Everything a bundle service may need; given to its factory. */
export interface CoreServices {
  readonly config: AppConfig;
  readonly credentials: Credentials;
  /** Organizations, users, key versions, audit. */
  readonly store: MetadataStore;
  /** Sessions and sealed system secrets, in the same database. */
  readonly system: SystemStore;
  readonly blobs: BlobStore;
  readonly signing: SigningService;
  /** HMAC-SHA256 key for signed download links (32 bytes); the same on every instance. */
  readonly linkKey: Buffer;
  readonly metrics: Metrics;
  /** Milliseconds since the epoch; injected so tests can move time. */
  readonly now: () => number;
  readonly logger: Logger;
  /**
   * The user's current personal service key in plaintext (for the sample request), or null.
   * Stand-in until Credentials offers `personalServiceKey(userId)`; reads as keys-view.ts does.
   */
  personalServiceKey(userId: string): Promise<string | null>;
}

export interface Services extends CoreServices {
  readonly bundles?: BundleLayer;
  /** Releases every connection; the services must not be used afterwards. */
  close(): Promise<void>;
}

export type BundleServiceFactory = (core: CoreServices) => Promise<BundleLayer>;

export interface OpenServicesOptions {
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly bundles?: BundleServiceFactory;
  /** How often the signing keyring is re-read from where it lives (default 30 s). */
  readonly signingRefreshMs?: number;
}

const quietLogger: Logger = { info() {}, warn() {}, debug() {} };

/**
 * The one place that wires the stores and secrets. Embedded default: a data directory (mode
 * 0700) holding the SQLite file, the master key, the signing keyring, the link key and the
 * blobs. With DATABASE_URL the signing keyring and link key live sealed in the database
 * instead, and with S3 the blobs live in the bucket: nothing an instance needs stays on its disk.
 */
export async function openServices(config: AppConfig, options: OpenServicesOptions = {}): Promise<Services> {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? quietLogger;
  const cleanup: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    if (config.databaseUrl === undefined || config.s3 === undefined) {
      await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    }
    const opened = await openCredentials({
      env: config.env,
      cwd: config.cwd,
      now,
      logger,
      agentAuthCacheSeconds: config.agentAuthCacheSeconds,
    });
    cleanup.push(() => opened.close());
    const target = metadataTargetFromEnv(config.env, config.cwd);
    const system = await openSystemStore(target);
    cleanup.push(() => system.close());
    const blobs = await openBlobStore(config);
    cleanup.push(() => blobs.close());
    const masterKeys = await loadMasterKeyring({
      env: config.env,
      ...('dataDir' in target ? { dataDir: target.dataDir } : {}),
    });
    const vault =
      config.databaseUrl === undefined ? fileVault(config.dataDir) : storeVault(system, masterKeys, now);
    const core: CoreServices = {
      config,
      credentials: opened.credentials,
      store: opened.store,
      system,
      blobs,
      signing: await openSigning(vault, { now, refreshMs: options.signingRefreshMs }),
      linkKey: await openLinkKey(vault),
      metrics: createMetrics(),
      now,
      logger,
      personalServiceKey: (userId) => personalServiceKey(opened.store, masterKeys, userId, now()),
    };
    const bundles = options.bundles === undefined ? undefined : await options.bundles(core);
    if (bundles !== undefined) cleanup.push(() => bundles.close());
    let closed: Promise<void> | undefined;
    return { ...core, ...(bundles === undefined ? {} : { bundles }), close: () => (closed ??= closeAll()) };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function personalServiceKey(
  store: MetadataStore,
  masterKeys: MasterKeyring,
  userId: string,
  now: number,
): Promise<string | null> {
  const purpose = 'personal-service-key';
  const [current] = await store.listKeyVersions(userId, purpose);
  if (current === undefined || (current.expiresAt !== null && current.expiresAt <= now)) return null;
  return unseal(masterKeys, current, { ownerId: userId, purpose, version: current.version });
}

async function openBlobStore(config: AppConfig): Promise<BlobStore> {
  if (config.s3 === undefined) {
    const { createFsBlobStore } = await import('./storage/blob/fs.js');
    return createFsBlobStore({ root: join(config.dataDir, 'blobs') });
  }
  const { createS3BlobStore } = await import('./storage/blob/s3.js');
  const { bucket, endpoint, region, forcePathStyle, prefix } = config.s3;
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = config.env;
  return createS3BlobStore({
    bucket,
    region,
    forcePathStyle,
    // Static keys from the configured environment; otherwise the SDK's chain (profiles, roles).
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(prefix === '' ? {} : { prefix: prefix.endsWith('/') ? prefix : `${prefix}/` }),
  });
}
