import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openBundleLayer } from './bundles/factory.js';
import type { BundleLayer } from './bundles/layer.js';
import type { AppConfig } from './config.js';
import type { Credentials } from './credentials/credentials.js';
import { openCredentials } from './credentials/open.js';
import type { Logger } from './credentials/types.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { BlobStore } from './storage/blob/types.js';
import type { Store } from './storage/db/types.js';
import { openLinkKey, openSigning, type SigningService } from './system/signing.js';
import { fileVault, storeVault } from './system/vault.js';

/** What the bundle layer is built from (src/bundles/factory.ts). */
export interface CoreServices {
  readonly config: AppConfig;
  readonly credentials: Credentials;
  /** The one metadata store: organizations, keys, users, sessions, system secrets, catalog. */
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly signing: SigningService;
  /** HMAC-SHA256 key for signed download links (32 bytes); the same on every instance. */
  readonly linkKey: Buffer;
  readonly metrics: Metrics;
  /** Milliseconds since the epoch; injected so tests can move time. */
  readonly now: () => number;
  readonly logger: Logger;
}

export interface Services extends CoreServices {
  /** The catalog and bundle service. */
  readonly bundles: BundleLayer;
  /** Releases every connection; the services must not be used afterwards. */
  close(): Promise<void>;
}

export interface OpenServicesOptions {
  readonly now?: () => number;
  readonly logger?: Logger;
  /** How often the signing keyring is re-read from where it lives (default 30 s). */
  readonly signingRefreshMs?: number;
}

const quietLogger: Logger = { info() {}, warn() {}, debug() {} };

/**
 * The one place that wires the process together, from a configuration read once. Embedded
 * default: a data directory (mode 0700) holding the SQLite file, the master key, the signing
 * keyring, the link key and the blobs. With DATABASE_URL the signing keyring and link key live
 * sealed in the database instead, and with S3 the blobs live in the bucket: nothing an
 * instance needs stays on its disk.
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
    const opened = await openCredentials(config, { now, logger });
    cleanup.push(() => opened.close());
    const blobs = await openBlobStore(config);
    cleanup.push(() => blobs.close());
    const vault =
      config.databaseUrl === undefined
        ? fileVault(config.dataDir)
        : storeVault(opened.store, opened.masterKeys, now);
    const core: CoreServices = {
      config,
      credentials: opened.credentials,
      store: opened.store,
      blobs,
      signing: await openSigning(vault, { now, refreshMs: options.signingRefreshMs }),
      linkKey: await openLinkKey(vault),
      metrics: createMetrics(),
      now,
      logger,
    };
    const bundles = await openBundleLayer(core);
    cleanup.push(() => bundles.close());
    let closed: Promise<void> | undefined;
    return { ...core, bundles, close: () => (closed ??= closeAll()) };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function openBlobStore(config: AppConfig): Promise<BlobStore> {
  if (config.s3 === undefined) {
    const { createFsBlobStore } = await import('./storage/blob/fs.js');
    return createFsBlobStore({ root: join(config.dataDir, 'blobs') });
  }
  const { createS3BlobStore } = await import('./storage/blob/s3.js');
  const { bucket, endpoint, region, forcePathStyle, prefix, credentials } = config.s3;
  return createS3BlobStore({
    bucket,
    region,
    forcePathStyle,
    ...(credentials === undefined ? {} : { credentials }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(prefix === '' ? {} : { prefix }),
  });
}
