import { open, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ArchiveLimits } from '../archive/limits.js';
import { prepareBase } from '../archive/prepared.js';
import { ArchiveError, ConflictError, NotFoundError } from '../common/errors.js';
import { type AgentKind, type ConfigFormat, listKinds, loadKind } from '../render/kinds.js';
import type { BlobStore } from '../storage/blob/types.js';
import type { AgentVersionRow, CatalogOps } from '../storage/db/types.js';
import { releaseTemp } from '../storage/temp-files.js';
import type { BaseCache } from './bases.js';
import { spoolUpload } from './uploads.js';
import { checkVersionName, compareVersions } from './versions.js';

export interface CatalogVersion {
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
  readonly entryCount: number;
  readonly uploadedAt: string;
  readonly withdrawn: boolean;
}

export interface CatalogKind {
  readonly kind: string;
  readonly description: string;
  readonly archive: 'jar' | 'zip';
  readonly configPath: string;
  readonly format: ConfigFormat;
  /** Highest version not withdrawn, or null. */
  readonly latest: string | null;
  /** Highest first. */
  readonly versions: CatalogVersion[];
}

export interface CatalogDeps {
  readonly ops: CatalogOps;
  readonly blobs: BlobStore;
  readonly bases: BaseCache;
  readonly limits: ArchiveLimits;
  readonly tmpDir: string;
  readonly now: () => number;
}

/** Base agents by kind and version. Validated once, on the way in; never again on download. */
export class Catalog {
  constructor(private readonly deps: CatalogDeps) {}

  /**
   * Streams an upload to a temp file (size limit enforced while streaming), validates it
   * completely, stores it, then records it. Any failure leaves nothing behind.
   */
  async add(kindName: string, version: string, source: Readable, actor: string): Promise<AgentVersionRow> {
    const kind = await loadKind(kindName);
    checkVersionName(version);
    if ((await this.deps.ops.findAgentVersion(kind.kind, version)) !== undefined) {
      source.resume();
      throw new ConflictError(`agent ${kind.kind} version ${version} is already in the catalog`);
    }
    const upload = await spoolUpload(source, this.deps.tmpDir, this.deps.limits.maxArchiveBytes);
    try {
      const prepared = await prepareBase(upload.path, { limits: this.deps.limits, verifyData: true });
      checkFitsKind(kind, prepared.summary.premainClass);
      const blobKey = `bases/${kind.kind}/${version}/${upload.sha256}`;
      // Opened now, not lazily: a store that fails before reading must not leave a stream that
      // opens the spool file after it is gone.
      const spooled = (await open(upload.path, 'r')).createReadStream();
      const put = await this.deps.blobs
        .put(blobKey, spooled, { sha256: upload.sha256 })
        .finally(() => spooled.destroy());
      const row: AgentVersionRow = {
        kind: kind.kind,
        version,
        sha256: put.sha256,
        size: put.size,
        blobKey,
        entryCount: prepared.structure.entryCount,
        uploadedAt: this.deps.now(),
        uploadedBy: actor,
        withdrawnAt: null,
      };
      await this.deps.ops.insertAgentVersion(row);
      this.deps.bases.remember(row.sha256, Promise.resolve(prepared));
      return row;
    } finally {
      await unlink(upload.path).catch(() => undefined);
      releaseTemp(upload.path);
    }
  }

  async list(options: { includeWithdrawn?: boolean } = {}): Promise<CatalogKind[]> {
    const kinds = await listKinds();
    const rows = await this.deps.ops.listAgentVersions();
    return kinds.map((kind) => {
      const versions = rows
        .filter(
          (row) => row.kind === kind.kind && (options.includeWithdrawn === true || row.withdrawnAt === null),
        )
        .sort((a, b) => compareVersions(b.version, a.version))
        .map(toCatalogVersion);
      return {
        kind: kind.kind,
        description: kind.description,
        archive: kind.archive,
        configPath: kind.target,
        format: kind.format,
        latest: versions.find((v) => !v.withdrawn)?.version ?? null,
        versions,
      };
    });
  }

  /** `latest` is the highest version not withdrawn; a withdrawn version is not served. */
  async resolve(kindName: string, spec: string): Promise<{ kind: AgentKind; base: AgentVersionRow }> {
    const kind = await loadKind(kindName);
    if (spec === 'latest') {
      const rows = (await this.deps.ops.listAgentVersions(kind.kind)).filter(
        (row) => row.withdrawnAt === null,
      );
      const base = rows.sort((a, b) => compareVersions(b.version, a.version))[0];
      if (base === undefined) throw new NotFoundError(`agent ${kind.kind} has no versions in the catalog`);
      return { kind, base };
    }
    checkVersionName(spec);
    const base = await this.deps.ops.findAgentVersion(kind.kind, spec);
    if (base === undefined || base.withdrawnAt !== null) {
      throw new NotFoundError(
        `agent ${kind.kind} has no version ${spec}${base === undefined ? '' : ' (it was withdrawn)'}`,
      );
    }
    return { kind, base };
  }

  async setWithdrawn(kindName: string, version: string, withdrawn: boolean): Promise<AgentVersionRow> {
    const kind = await loadKind(kindName);
    checkVersionName(version);
    const changed = await this.deps.ops.setAgentVersionWithdrawn(
      kind.kind,
      version,
      withdrawn ? this.deps.now() : null,
    );
    const row = changed ? await this.deps.ops.findAgentVersion(kind.kind, version) : undefined;
    if (row === undefined) throw new NotFoundError(`agent ${kind.kind} has no version ${version}`);
    return row;
  }
}

function checkFitsKind(kind: AgentKind, premainClass: string | null): void {
  if (kind.archive === 'jar' && premainClass === null) {
    throw new ArchiveError(
      `a ${kind.kind} agent must be a JAR whose META-INF/MANIFEST.MF names a Premain-Class`,
    );
  }
}

function toCatalogVersion(row: AgentVersionRow): CatalogVersion {
  return {
    version: row.version,
    sha256: row.sha256,
    size: row.size,
    entryCount: row.entryCount,
    uploadedAt: new Date(row.uploadedAt).toISOString(),
    withdrawn: row.withdrawnAt !== null,
  };
}
