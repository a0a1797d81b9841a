import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ArchiveLimits } from '../archive/limits.js';
import type { Credentials } from '../credentials/credentials.js';
import type { BlobStore } from '../storage/blob/types.js';
import type { CatalogOps } from '../storage/db/types.js';
import { BaseCache } from './bases.js';
import { Catalog } from './catalog.js';
import { type BundleMetrics, BundleService } from './service.js';
import type { SigningKey } from './signing-keys.js';

/** What the catalog and bundle service need from the rest of the process. */
export interface BundleLayerDeps {
  readonly ops: CatalogOps;
  readonly blobs: BlobStore;
  readonly credentials: Credentials;
  readonly signingKey: () => Promise<SigningKey>;
  /** A service secret shared by all instances; bundle identities are keyed by a key derived from it. */
  readonly secret: Buffer;
  readonly publicUrl: string;
  readonly limits: ArchiveLimits;
  readonly tmpDir: string;
  readonly now: () => number;
  readonly metrics?: BundleMetrics;
  /** Distinct sets of render settings per organization (AGENTPACK_SETTINGS_SETS_PER_ORG). */
  readonly settingsSetsPerOrg?: number;
}

export interface BundleLayer {
  readonly catalog: Catalog;
  /** Where uploads are spooled and bases copied (`upload-*`, `base-*` temp files). */
  readonly tmpDir: string;
  readonly service: BundleService;
  /** Adds the sample agents from `fixtures/` to the catalog when they are missing. */
  loadFixtures(): Promise<string[]>;
  /**
   * After a rotation: builds the organization's current bundles for every kind's latest version
   * and removes records whose keys expired. In the background; failures go to `onError`.
   */
  refresh(orgId: string, onError?: (error: unknown) => void): void;
  /** Removes records of expired bundles now and then every `intervalMs` (until close). */
  startCollector(intervalMs?: number, onError?: (error: unknown) => void): void;
  close(): Promise<void>;
}

const fixturesDir = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export const SAMPLE_AGENTS = [
  { kind: 'java', version: '1.0.0', file: 'java-agent/agentpack-java-agent.jar' },
  { kind: 'node', version: '1.0.0', file: 'node-agent/agentpack-node-agent.zip' },
] as const;

export function createBundleLayer(deps: BundleLayerDeps): BundleLayer {
  const bases = new BaseCache(deps.blobs, deps.tmpDir, deps.limits);
  const catalog = new Catalog({
    ops: deps.ops,
    blobs: deps.blobs,
    bases,
    limits: deps.limits,
    tmpDir: deps.tmpDir,
    now: deps.now,
  });
  const purpose = 'bundle-settings';
  const service = new BundleService({
    ops: deps.ops,
    blobs: deps.blobs,
    catalog,
    bases,
    credentials: deps.credentials,
    signingKey: deps.signingKey,
    sealer: {
      seal: (orgId, plaintext) => deps.credentials.sealOrgSecret(orgId, purpose, plaintext),
      unseal: (orgId, masterKeyId, sealed) =>
        deps.credentials.unsealOrgSecret(orgId, purpose, { masterKeyId, sealed }),
    },
    identityKey: createHmac('sha256', deps.secret).update('agentpack bundle identity key').digest(),
    publicUrl: deps.publicUrl,
    now: deps.now,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
    ...(deps.settingsSetsPerOrg === undefined ? {} : { settingsSetsPerOrg: deps.settingsSetsPerOrg }),
  });
  let collector: NodeJS.Timeout | undefined;
  const pending = new Set<Promise<void>>();
  return {
    catalog,
    tmpDir: deps.tmpDir,
    service,
    async loadFixtures() {
      const added: string[] = [];
      for (const sample of SAMPLE_AGENTS) {
        if ((await deps.ops.findAgentVersion(sample.kind, sample.version)) !== undefined) continue;
        const bytes = await readFile(join(fixturesDir, sample.file));
        try {
          await catalog.add(sample.kind, sample.version, Readable.from([bytes]), 'system:bootstrap');
          added.push(`${sample.kind} ${sample.version}`);
        } catch (error) {
          // Another instance starting at the same time added it first.
          if ((error as { status?: number }).status !== 409) throw error;
        }
      }
      return added;
    },
    refresh(orgId, onError = () => undefined) {
      const work = async () => {
        for (const kind of await catalog.list()) {
          if (kind.latest !== null) await service.current({ orgId, kind: kind.kind, version: kind.latest });
        }
        await service.collect({ orgId });
      };
      const running: Promise<void> = work()
        .catch(onError)
        .finally(() => pending.delete(running));
      pending.add(running);
    },
    startCollector(intervalMs = 10 * 60_000, onError = () => undefined) {
      if (collector !== undefined) return;
      const sweep = () => void service.collect().catch(onError);
      sweep();
      collector = setInterval(sweep, intervalMs);
      collector.unref();
    },
    async close() {
      if (collector !== undefined) clearInterval(collector);
      collector = undefined;
      await Promise.allSettled(pending);
    },
  };
}
