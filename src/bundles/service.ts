import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { PreparedBase } from '../archive/prepared.js';
import { spliceBundle } from '../archive/prepared.js';
import { BadRequestError, GoneError, InternalError, NotFoundError } from '../common/errors.js';
import { KEY_PURPOSES } from '../common/validate.js';
import type { Credentials } from '../credentials/credentials.js';
import type { AgentKind } from '../render/kinds.js';
import { renderConfig } from '../render/render.js';
import type { BlobStore } from '../storage/blob/types.js';
import type { AgentVersionRow, BundleRow, CatalogOps } from '../storage/db/types.js';
import type { BaseCache } from './bases.js';
import { BundleBody } from './body.js';
import type { Catalog } from './catalog.js';
import { GroupCommit } from './group-commit.js';
import { bundleIdentity } from './identity.js';
import { type BundlePart, partsFor, type ResolvedRange } from './ranges.js';
import { type SettingsRecord, settingsKey, settingsToCollect } from './settings-cap.js';
import { buildStatement, signStatement } from './signature.js';
import type { SigningKey } from './signing-keys.js';
import { zipFormat } from './zip-format.js';

/** Seals render settings (they may hold a proxy password) under the master key, bound to the org. */
export interface SettingsSealer {
  seal(orgId: string, plaintext: string): { masterKeyId: string; sealed: string };
  unseal(orgId: string, masterKeyId: string, sealed: string): string;
}

export interface BundleMetrics {
  built(seconds: number): void;
  cacheHit(): void;
}

export interface BundleServiceDeps {
  readonly ops: CatalogOps;
  readonly blobs: BlobStore;
  readonly catalog: Catalog;
  readonly bases: BaseCache;
  readonly credentials: Credentials;
  readonly signingKey: () => Promise<SigningKey>;
  readonly sealer: SettingsSealer;
  /** Keys the bundle identity, so an identity (in a link) reveals nothing about its settings. */
  readonly identityKey: Buffer;
  readonly publicUrl: string;
  readonly now: () => number;
  readonly metrics?: BundleMetrics;
  /** Distinct sets of render settings an organization's records may hold (default 100). */
  readonly settingsSetsPerOrg?: number;
}

export const DEFAULT_SETTINGS_SETS_PER_ORG = 100;

export interface BundleRequest {
  readonly orgId: string;
  readonly kind: string;
  /** A version, or `latest`. */
  readonly version: string;
  /** Optional render settings: `proxy.*` and free-form extra settings. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** A bundle ready to serve: its record and the base it is spliced from. */
export interface Bundle {
  readonly row: BundleRow;
  readonly kind: AgentKind;
  readonly base: AgentVersionRow;
  /** True when this call built it (rather than finding it already recorded). */
  readonly built?: boolean;
}

const TAIL_CACHE_BYTES = 64 * 1024 * 1024;
const RESERVED_SETTINGS = /^api\./;

/**
 * Builds bundles on demand and serves them as base prefix + tail. The tail holds the secrets and
 * is only ever in memory; what is stored is the identity, digest and signed statement.
 */
export class BundleService {
  private readonly building = new Map<string, Promise<Bundle>>();
  private readonly tails = new Map<string, Buffer>();
  private tailBytes = 0;

  /** Bundle records built at the same time (a rebuild, a burst of first downloads) commit together. */
  private readonly records: GroupCommit<BundleRow>;

  constructor(private readonly deps: BundleServiceDeps) {
    this.records = new GroupCommit((rows) => deps.ops.insertBundles(rows));
  }

  /** The current bundle for an organization: keys at their current versions. Built once per identity. */
  async current(request: BundleRequest): Promise<Bundle> {
    const settings = checkSettings(request.settings ?? {});
    const { kind, base } = await this.deps.catalog.resolve(request.kind, request.version);
    const keys = await this.deps.credentials.getKeys(request.orgId);
    const keyVersions = {
      'api-key': keys.versions.apiKey,
      'agent-service-key': keys.versions.agentServiceKey,
    };
    const id = this.identity(request.orgId, kind, base, keyVersions, settings);
    const existing = await this.deps.ops.findBundle(id);
    if (existing !== undefined) {
      this.deps.metrics?.cacheHit();
      return { row: existing, kind, base };
    }
    let pending = this.building.get(id);
    if (pending === undefined) {
      if (Object.keys(settings).length > 0) await this.makeRoomForSettings(request.orgId, settings);
      pending = this.build(id, {
        orgId: request.orgId,
        slug: keys.slug,
        kind,
        base,
        keyVersions,
        settings,
        secrets: keys,
      });
      this.building.set(id, pending);
      pending.finally(() => this.building.delete(id)).catch(() => undefined);
    }
    return pending;
  }

  /**
   * A bundle by identity (signed links, statements by identity): only while its base is served
   * and its key versions are valid. With `orgId`, another organization's bundle is as missing.
   */
  async byId(id: string, scope: { orgId?: string } = {}): Promise<Bundle> {
    const row = await this.deps.ops.findBundle(id);
    if (row === undefined || (scope.orgId !== undefined && row.orgId !== scope.orgId))
      throw new NotFoundError('this bundle no longer exists (its keys expired or it was collected)');
    if (!(await this.stillValid(row)))
      throw new GoneError('the keys in this bundle have expired; create a new link');
    const { kind, base } = await this.deps.catalog.resolve(row.kind, row.version);
    if (base.sha256 !== row.baseSha256)
      throw new GoneError('this bundle was built from a base that is no longer in the catalog');
    return { row, kind, base };
  }

  /**
   * The bytes of a bundle (or of a range of it), streamed: the base's prefix from the blob store,
   * then the tail. Where the store reads positionally (disk), the base is opened here, so a
   * missing or short base fails before any header is sent, and the body can be written to a
   * response through reused buffers (BundleBody).
   */
  async open(bundle: Bundle, range?: ResolvedRange): Promise<Readable> {
    const tail = await this.tail(bundle);
    const prefixLength = bundle.row.size - tail.length;
    const parts = partsFor(prefixLength, tail, range ?? { start: 0, end: bundle.row.size - 1 });
    const { blobs } = this.deps;
    if (parts.every((part) => part.source === 'tail'))
      return Readable.from(this.streamParts(bundle.base, parts), { objectMode: false });
    if (blobs.openReader === undefined) {
      // The first stored range is opened here, before any header is sent: a store that is down
      // or a missing base then gets a proper error answer rather than a body cut short.
      const first = parts.find((part) => part.source === 'base');
      const opened =
        first === undefined
          ? undefined
          : await blobs.get(bundle.base.blobKey, { start: first.start, end: first.end });
      const body = Readable.from(this.streamParts(bundle.base, parts, opened), { objectMode: false });
      body.once('close', () => opened?.destroy());
      return body;
    }
    const reader = await blobs.openReader(bundle.base.blobKey);
    if (reader.size < prefixLength) {
      await reader.close();
      throw new InternalError(
        'BASE_TRUNCATED',
        `expected the stored base of ${bundle.base.kind} ${bundle.base.version} to hold at least ${prefixLength} bytes, found ${reader.size}`,
      );
    }
    return new BundleBody(reader, parts);
  }

  /**
   * Where the bundle's own bytes begin: the config entry's local header, then the central
   * directory and end record. Everything before is the base's unchanged prefix, so a response
   * holds part of the config (or the directory after it) exactly when it reaches this offset.
   */
  async configOffset(bundle: Bundle): Promise<number> {
    return bundle.row.size - (await this.tail(bundle)).length;
  }

  /** The rendered config alone (holds secrets: callers must not cache it). */
  async config(bundle: Bundle): Promise<Buffer> {
    return (await this.render(bundle)).config;
  }

  /** The zip format: the untouched base, the config beside it, and signed SHA256SUMS. */
  async zip(bundle: Bundle): Promise<{ stream: Readable; fileName: string }> {
    const config = await this.config(bundle);
    const { row, kind, base } = bundle;
    const baseName = `${kind.kind}-agent-${base.version}.${kind.archive}`;
    const stream = zipFormat({
      base: await this.deps.blobs.get(base.blobKey),
      baseName,
      baseSha256: base.sha256,
      config,
      configName: kind.target.split('/').pop() as string,
      orgId: row.orgId,
      kind: kind.kind,
      version: base.version,
      issuedAt: new Date(row.createdAt),
      key: await this.deps.signingKey(),
    });
    return { stream, fileName: row.fileName.replace(/\.(jar|zip)$/, '-config.zip') };
  }

  /** Removes records of bundles whose key versions have expired; returns how many. */
  async collect(filter: { orgId?: string } = {}): Promise<number> {
    const rows = await this.deps.ops.listBundles(filter);
    const dead: string[] = [];
    const validByOrg = new Map<string, Set<string>>();
    for (const row of rows) {
      let valid = validByOrg.get(row.orgId);
      if (valid === undefined) {
        valid = await this.validVersions(row.orgId);
        validByOrg.set(row.orgId, valid);
      }
      if (!embedsOnly(row, valid)) dead.push(row.id);
    }
    for (const id of dead) this.forgetTail(id);
    return dead.length === 0 ? 0 : this.deps.ops.deleteBundles(dead);
  }

  /**
   * Settings come from members and each new set is a new record: without a cap, ever-different
   * settings would grow the catalog without bound. Before a record with a new set is built, the
   * organization's oldest unused sets are collected (settings-cap.ts); links to them then answer
   * 410. Per instance, so concurrent builds may overshoot by a few.
   */
  private async makeRoomForSettings(orgId: string, settings: Record<string, string>): Promise<void> {
    const max = this.deps.settingsSetsPerOrg ?? DEFAULT_SETTINGS_SETS_PER_ORG;
    const rows = await this.deps.ops.listBundles({ orgId });
    const valid = await this.validVersions(orgId);
    const records: SettingsRecord[] = rows.map((row) => ({
      id: row.id,
      settings: this.settingsOf(row),
      createdAt: row.createdAt,
      alive: embedsOnly(row, valid),
    }));
    const doomed = settingsToCollect(records, settingsKey(settings), max);
    if (doomed.length === 0) return;
    for (const id of doomed) this.forgetTail(id);
    await this.deps.ops.deleteBundles(doomed);
  }

  /** A record's settings key; a record whose settings cannot be unsealed counts as a set of its own. */
  private settingsOf(row: BundleRow): string {
    try {
      const settings = JSON.parse(
        this.deps.sealer.unseal(row.orgId, row.settingsMasterKeyId, row.settingsSealed),
      ) as Record<string, string>;
      return settingsKey(settings);
    } catch {
      return `unreadable:${row.id}`;
    }
  }

  private identity(
    orgId: string,
    kind: AgentKind,
    base: AgentVersionRow,
    keyVersions: Record<string, number>,
    settings: Record<string, string>,
  ): string {
    return bundleIdentity(
      {
        orgId,
        kind: kind.kind,
        version: base.version,
        baseSha256: base.sha256,
        templateSha256: templateDigest(kind),
        keyVersions,
        settings: { ...settings, 'api.url': this.deps.publicUrl },
      },
      this.deps.identityKey,
    );
  }

  private async build(
    id: string,
    input: {
      orgId: string;
      slug: string;
      kind: AgentKind;
      base: AgentVersionRow;
      keyVersions: Record<string, number>;
      settings: Record<string, string>;
      secrets: { apiKey: string; agent: { userName: string; serviceKey: string } };
    },
  ): Promise<Bundle> {
    const started = process.hrtime.bigint();
    const { orgId, kind, base, settings, secrets } = input;
    const prepared = await this.deps.bases.get(base);
    const config = renderConfig(kind, this.values(settings, secrets));
    const { sha256, size } = spliceBundle(prepared, { path: kind.target, data: config });
    const fileName = `agentpack-${kind.kind}-${base.version}-${input.slug}.${kind.archive}`;
    const key = await this.deps.signingKey();
    const statement = buildStatement({
      sha256Hex: sha256,
      fileName,
      orgId,
      kind: kind.kind,
      version: base.version,
      issuedAt: new Date(this.deps.now()),
      keyId: key.keyId,
    });
    const sealedSettings = this.deps.sealer.seal(orgId, JSON.stringify(settings));
    const row: BundleRow = {
      id,
      orgId,
      kind: kind.kind,
      version: base.version,
      baseSha256: base.sha256,
      keyVersions: JSON.stringify(input.keyVersions),
      settingsSealed: sealedSettings.sealed,
      settingsMasterKeyId: sealedSettings.masterKeyId,
      sha256,
      size,
      fileName,
      statement: statement.toString('utf8'),
      signature: signStatement(statement, key).toString('base64'),
      createdAt: this.deps.now(),
    };
    await this.records.add(row);
    // Another instance may have recorded the same identity first: serve what is stored. The
    // tail is not joined and cached here: a rebuild of many organizations never serves them, and
    // the first download rebuilds it in about a millisecond.
    const stored = (await this.deps.ops.findBundle(id)) ?? row;
    this.deps.metrics?.built(Number(process.hrtime.bigint() - started) / 1e9);
    return { row: stored, kind, base, built: true };
  }

  private values(
    settings: Record<string, string>,
    secrets: { apiKey: string; agent: { userName: string; serviceKey: string } },
  ): Record<string, string> {
    return {
      ...settings,
      'api.url': this.deps.publicUrl,
      'api.api_key': secrets.apiKey,
      'api.service_key': secrets.agent.serviceKey,
      'api.user_name': secrets.agent.userName,
    };
  }

  private async tail(bundle: Bundle): Promise<Buffer> {
    const cached = this.tails.get(bundle.row.id);
    if (cached !== undefined) return cached;
    const { tail } = await this.render(bundle);
    this.rememberTail(bundle.row.id, tail);
    return tail;
  }

  /** Rebuilds config and tail from the stored record: keys at the recorded versions, settings unsealed. */
  private async render(bundle: Bundle): Promise<{ config: Buffer; tail: Buffer }> {
    const { row, kind, base } = bundle;
    const versions = JSON.parse(row.keyVersions) as Record<string, number>;
    const [apiKey, serviceKey] = await Promise.all(
      KEY_PURPOSES.map((which) =>
        this.deps.credentials.keyForVersion(row.orgId, which, versions[which] ?? -1),
      ),
    );
    const org = await this.deps.credentials.getOrganization(row.orgId);
    if (
      apiKey === null ||
      serviceKey === null ||
      apiKey === undefined ||
      serviceKey === undefined ||
      org === null
    ) {
      throw new GoneError('the keys in this bundle have expired');
    }
    const settings = JSON.parse(
      this.deps.sealer.unseal(row.orgId, row.settingsMasterKeyId, row.settingsSealed),
    ) as Record<string, string>;
    const config = renderConfig(
      kind,
      this.values(settings, { apiKey, agent: { userName: org.agentUserName, serviceKey } }),
    );
    const prepared: PreparedBase = await this.deps.bases.get(base);
    const spliced = spliceBundle(prepared, { path: kind.target, data: config });
    if (spliced.sha256 !== row.sha256) {
      throw new InternalError(
        'BUNDLE_MISMATCH',
        `bundle ${row.id.slice(0, 12)} rebuilt to a different digest`,
      );
    }
    return { config, tail: spliced.tail.bytes };
  }

  /** `opened`: the first base part's stream, when the caller opened it already. */
  private async *streamParts(
    base: AgentVersionRow,
    parts: BundlePart[],
    opened?: Readable,
  ): AsyncGenerator<Buffer> {
    let first = opened;
    for (const part of parts) {
      if (part.source === 'tail') {
        yield part.bytes;
        continue;
      }
      const stream = first ?? (await this.deps.blobs.get(base.blobKey, { start: part.start, end: part.end }));
      first = undefined;
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    }
  }

  private async stillValid(row: BundleRow): Promise<boolean> {
    return embedsOnly(row, await this.validVersions(row.orgId));
  }

  private async validVersions(orgId: string): Promise<Set<string>> {
    const keys = await this.deps.credentials.getKeys(orgId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
    if (keys === null) return new Set();
    const valid = new Set([
      `api-key:${keys.versions.apiKey}`,
      `agent-service-key:${keys.versions.agentServiceKey}`,
    ]);
    const now = this.deps.now();
    for (const pending of keys.expiries)
      if (Date.parse(pending.expiresAt) > now) valid.add(`${pending.which}:${pending.version}`);
    return valid;
  }

  private rememberTail(id: string, tail: Buffer): void {
    if (tail.length > TAIL_CACHE_BYTES / 4) return;
    this.forgetTail(id);
    this.tails.set(id, tail);
    this.tailBytes += tail.length;
    for (const [oldest, bytes] of this.tails) {
      if (this.tailBytes <= TAIL_CACHE_BYTES) break;
      this.tails.delete(oldest);
      this.tailBytes -= bytes.length;
    }
  }

  private forgetTail(id: string): void {
    const old = this.tails.get(id);
    if (old === undefined) return;
    this.tails.delete(id);
    this.tailBytes -= old.length;
  }
}

/** Kinds are loaded once and never change in a process: hash each template once, not per download. */
const templateDigests = new WeakMap<AgentKind, string>();

function templateDigest(kind: AgentKind): string {
  let digest = templateDigests.get(kind);
  if (digest === undefined) {
    digest = createHash('sha256')
      .update(JSON.stringify([kind.target, kind.format]))
      .update(kind.templateSource)
      .digest('hex');
    templateDigests.set(kind, digest);
  }
  return digest;
}

/** Whether every key version a bundle embeds is among `valid` (`<which>:<version>` entries). */
function embedsOnly(row: BundleRow, valid: Set<string>): boolean {
  const versions = JSON.parse(row.keyVersions) as Record<string, number>;
  return KEY_PURPOSES.every((which) => valid.has(`${which}:${versions[which]}`));
}

/** Settings come from people: `api.*` is reserved (the service fills it), values are strings. */
function checkSettings(settings: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (RESERVED_SETTINGS.test(name))
      throw new BadRequestError(
        'SETTING_RESERVED',
        `setting ${JSON.stringify(name)} is filled by agentpack and cannot be set`,
      );
    if (typeof value !== 'string')
      throw new BadRequestError('SETTING_INVALID', `setting ${JSON.stringify(name)} must be a string`);
    if (value !== '') out[name] = value;
  }
  return out;
}
