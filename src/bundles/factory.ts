import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreServices } from '../services.js';
import { type BundleLayer, createBundleLayer } from './layer.js';

/** Wires the catalog and bundle service onto the core services (called by openServices). */
export async function openBundleLayer(core: CoreServices): Promise<BundleLayer> {
  const { config, metrics } = core;
  // Uploads and base copies are spooled locally; in scale-out mode nothing else is kept here.
  const tmpDir =
    config.databaseUrl === undefined
      ? join(config.dataDir, 'tmp')
      : join(tmpdir(), `agentpack-${process.pid}`);
  return createBundleLayer({
    ops: core.store,
    blobs: core.blobs,
    credentials: core.credentials,
    signingKey: () => core.signing.current(),
    secret: core.linkKey,
    publicUrl: config.publicUrl,
    limits: config.limits,
    tmpDir,
    now: core.now,
    settingsSetsPerOrg: config.requestLimits.settingsSetsPerOrg,
    metrics: {
      built(seconds) {
        metrics.bundleBuilds.inc();
        metrics.bundleBuildSeconds.observe(seconds);
      },
      cacheHit() {
        metrics.bundleCacheHits.inc();
      },
    },
  });
}
