import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE_PREFIX } from './bundles/bases.js';
import { openBundleLayer } from './bundles/factory.js';
import type { BundleLayer } from './bundles/layer.js';
import { UPLOAD_PREFIX } from './bundles/uploads.js';
import { TEMP_NAME } from './common/durable.js';
import type { AppConfig } from './config.js';
import type { Credentials } from './credentials/credentials.js';
import { openCredentials } from './credentials/open.js';
import type { Logger } from './credentials/types.js';
import { createMetrics, type Metrics } from './metrics.js';
import { TEMP_PREFIX } from './storage/blob/fs.js';
import type { BlobStore } from './storage/blob/types.js';
import type { Store } from './storage/db/types.js';
import {
  orphanSpoolDirs,
  removeIfEmpty,
  type SweepResult,
  type SweepTarget,
  sweepTempFiles,
} from './storage/temp-files.js';
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
  /**
   * Removes temp files no live work owns (upload spools, base copies, unfinished blob writes left
   * by a crash or a failure): now, then every `intervalMs` (default 10 minutes) until close.
   * `onSwept` hears of every sweep that freed something.
   */
  startTempSweep(onSwept: (result: SweepResult) => void, intervalMs?: number): void;
  /** One sweep now (see startTempSweep). */
  sweepTempFiles(): Promise<SweepResult>;
  /** Releases every connection; the services must not be used afterwards. */
  close(): Promise<void>;
}

/** How often leftover temp files are looked for. */
export const TEMP_SWEEP_INTERVAL_MS = 10 * 60_000;
/** Temp files of another live process (or of an older release, without a pid) older than this are garbage. */
const TEMP_MAX_AGE_MS = 24 * 3600_000;

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
    const sweepNow = () => sweep(config, bundles.tmpDir);
    let sweeper: NodeJS.Timeout | undefined;
    cleanup.push(async () => clearInterval(sweeper));
    let closed: Promise<void> | undefined;
    return {
      ...core,
      bundles,
      sweepTempFiles: sweepNow,
      startTempSweep(onSwept, intervalMs = TEMP_SWEEP_INTERVAL_MS) {
        if (sweeper !== undefined) return;
        const once = () =>
          void sweepNow()
            .then((result) => {
              if (result.files > 0) onSwept(result);
            })
            // A sweep never throws; a failing listener must not become an unhandled rejection.
            .catch(() => undefined);
        once();
        sweeper = setInterval(once, intervalMs);
        sweeper.unref();
      },
      close: () => (closed ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The places temp files are written: the bundle layer's spool directory and the fs blob store. */
async function sweep(config: AppConfig, tmpDir: string): Promise<SweepResult> {
  const spools = [UPLOAD_PREFIX, BASE_PREFIX];
  const targets: SweepTarget[] = [{ dir: tmpDir, prefixes: spools }];
  // Durable writes (common/durable.ts) leave `.<name>.~tmp-<hex>` beside their target if killed.
  targets.push({ dir: config.dataDir, prefixes: [], pattern: TEMP_NAME });
  if (config.s3 === undefined) {
    const blobs = join(config.dataDir, 'blobs');
    targets.push({ dir: blobs, prefixes: [TEMP_PREFIX], pattern: TEMP_NAME, recursive: true });
  }
  // Scale-out instances spool under the OS temp directory, one directory per process.
  const orphans = config.databaseUrl === undefined ? [] : await orphanSpoolDirs(spools);
  const result = await sweepTempFiles([...targets, ...orphans], { maxAgeMs: TEMP_MAX_AGE_MS });
  for (const orphan of orphans) await removeIfEmpty(orphan.dir);
  return result;
}

async function openBlobStore(config: AppConfig): Promise<BlobStore> {
  if (config.s3 === undefined) {
    const { createFsBlobStore } = await import('./storage/blob/fs.js');
    return createFsBlobStore({ root: join(config.dataDir, 'blobs') });
  }
  const { createS3BlobStore } = await import('./storage/blob/s3.js');
  const { bucket, endpoint, region, forcePathStyle, prefix, credentials, timeoutMs } = config.s3;
  return createS3BlobStore({
    bucket,
    region,
    forcePathStyle,
    timeoutMs,
    ...(credentials === undefined ? {} : { credentials }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(prefix === '' ? {} : { prefix }),
  });
}
