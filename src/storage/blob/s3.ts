import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  AgentpackError,
  BadGatewayError,
  InsufficientStorageError,
  InternalError,
  NotFoundError,
  RangeNotSatisfiableError,
  UnavailableError,
} from '../../common/errors.js';
import { blobKeyProblem, validateBlobKey, validateBlobPrefix, validateRange } from './key.js';
import { ByteQueue, bufferChunks, digestMismatch, firstBytes, validateSha256 } from './stream.js';
import type { BlobInfo, BlobListEntry, BlobStore, ByteRange, PutOptions, PutResult } from './types.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** For S3-compatible servers (MinIO, s3rver); unset means AWS. */
  endpoint?: string;
  /** Defaults to the SDK's own resolution (AWS_REGION), or us-east-1 with a custom endpoint. */
  region?: string;
  forcePathStyle?: boolean;
  /** Unset means the SDK's default provider chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Key prefix inside the bucket, e.g. "agentpack/", so one bucket can serve several deployments. */
  prefix?: string;
  /** Bytes buffered per multipart part; a put larger than this goes multipart. Default 8 MiB. */
  partSize?: number;
  /** Keys per ListObjects request (1-1000); small values let tests cross page boundaries. */
  listPageSize?: number;
  /**
   * The longest a call waits for S3 (default 10 s): to connect, for an answer (retries included)
   * and, while a body streams, between two packets. Past it the call fails with a 503.
   */
  timeoutMs?: number;
}

export const DEFAULT_S3_TIMEOUT_MS = 10_000;

const MiB = 1024 * 1024;
/** S3 rejects multipart parts below 5 MiB (except the last) and copies above 5 GiB. */
const MIN_PART = 5 * MiB;
const MAX_COPY = 5 * 1024 * MiB;

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
]);
/** What S3-compatible servers answer when their disks are full (MinIO: XMinioStorageFull, 507). */
const FULL_CODES = new Set(['XMinioStorageFull', 'InsufficientStorage']);

function describe(error: unknown): { name: string; status: number | undefined } {
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const name = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'unknown error';
  return { name, status: e?.$metadata?.httpStatusCode };
}

function isNotFound(error: unknown): boolean {
  const { name, status } = describe(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket');
}

interface Upload {
  key: string;
  id: string;
  parts: CompletedPart[];
}

function checkOptions(options: S3BlobStoreOptions): void {
  const fail = (message: string): never => {
    throw new InternalError('CONFIG_INVALID', `S3 blob store: ${message}`);
  };
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket ?? '')) {
    fail(`expected a bucket name of 3-63 characters a-z 0-9 . -, got ${JSON.stringify(options.bucket)}`);
  }
  const prefix = options.prefix ?? '';
  if (prefix !== '' && (!prefix.endsWith('/') || blobKeyProblem(prefix.slice(0, -1)) !== undefined)) {
    fail(`expected a key prefix like "agentpack/", got ${JSON.stringify(prefix)}`);
  }
  const partSize = options.partSize ?? 8 * MiB;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART || partSize > MAX_COPY) {
    fail(`expected partSize between 5 MiB and 5 GiB, got ${partSize}`);
  }
  const pageSize = options.listPageSize ?? 1000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    fail(`expected listPageSize between 1 and 1000, got ${pageSize}`);
  }
  const timeout = options.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeout) || timeout < 1) fail(`expected timeoutMs of at least 1, got ${timeout}`);
}

export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  checkOptions(options);
  const { bucket } = options;
  const keyPrefix = options.prefix ?? '';
  const partSize = options.partSize ?? 8 * MiB;
  const pageSize = options.listPageSize ?? 1000;
  const timeoutMs = options.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS;
  const config: S3ClientConfig = {
    // Checksums only where S3 demands them: they would force aws-chunked uploads that
    // S3-compatible servers handle unevenly, and we hash every byte ourselves anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A frozen server (SIGSTOP, a black-holed route) accepts connections and then says nothing:
    // the socket's inactivity timeout ends such a call, also while a body streams. A deadline on
    // the whole call (retries included) is set per call, in `call`.
    requestHandler: { connectionTimeout: timeoutMs, socketTimeout: timeoutMs },
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  const region = options.region ?? (options.endpoint !== undefined ? 'us-east-1' : undefined);
  if (region !== undefined) config.region = region;
  if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  const client = new S3Client(config);

  const full = (key: string): string => `${keyPrefix}${key}`;
  // Keys are limited to URL-safe characters, so the copy source needs no encoding.
  const copySource = (key: string): string => `${bucket}/${full(key)}`;

  function translate(op: string, key: string, error: unknown): AgentpackError {
    if (error instanceof AgentpackError) return error;
    if (isNotFound(error)) return new NotFoundError(`no blob "${key}"`);
    const { name, status } = describe(error);
    if (name === 'InvalidRange' || status === 416) {
      return new RangeNotSatisfiableError(`requested range is outside blob "${key}"`);
    }
    const where = `S3 blob store (bucket "${bucket}"): ${op} "${key}" failed (${name}${status ? `, HTTP ${status}` : ''})`;
    if (FULL_CODES.has(name) || status === 507)
      return new InsufficientStorageError('storage', where, { cause: error });
    // 501 (not implemented) is a server that cannot do what we ask, not one that is down.
    if (UNAVAILABLE_CODES.has(name) || (status !== undefined && status >= 500 && status !== 501))
      return new UnavailableError('storage', where, { cause: error });
    return new BadGatewayError('STORAGE_FAILED', where, { cause: error });
  }

  /**
   * Every SDK call goes through here, so no SDK error escapes the store. `run` passes `options` to
   * `client.send`: a deadline of `timeoutMs` on the whole call, retries included. Calls that
   * upload a body or copy server-side (`deadline` false) get none, as a large part or copy may
   * take longer: the socket's inactivity timeout bounds them (S3 keeps a long copy's connection
   * busy). A response body is not cut by the deadline, which ends with the headers.
   */
  async function call<T>(
    op: string,
    key: string,
    run: (options: { abortSignal?: AbortSignal }) => Promise<T>,
    deadline = true,
  ): Promise<T> {
    if (!deadline) {
      try {
        return await run({});
      } catch (error) {
        throw translate(op, key, error);
      }
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await run({ abortSignal: controller.signal });
    } catch (error) {
      if (!controller.signal.aborted) throw translate(op, key, error);
      throw new UnavailableError(
        'storage',
        `S3 blob store (bucket "${bucket}"): ${op} "${key}" got no answer within ${timeoutMs} ms`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A response body whose errors (a reset connection, the inactivity timeout) are ours too: a
   * body that fails mid-way must not reach a caller as an SDK error.
   */
  function translatedBody(op: string, key: string, body: Readable): Readable {
    const out = new PassThrough({ highWaterMark: body.readableHighWaterMark });
    body.on('error', (error) => out.destroy(translate(op, key, error)));
    out.on('close', () => body.destroy());
    return body.pipe(out);
  }

  async function createUpload(key: string, opts: { contentType?: string; sha256?: string }): Promise<Upload> {
    const out = await call('put', key, (options) =>
      client.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: full(key),
          ContentType: opts.contentType,
          Metadata: opts.sha256 ? { sha256: opts.sha256 } : undefined,
        }),
        options,
      ),
    );
    if (!out.UploadId) throw translate('put', key, new Error('CreateMultipartUpload returned no UploadId'));
    return { key, id: out.UploadId, parts: [] };
  }

  async function uploadPart(upload: Upload, body: Buffer): Promise<void> {
    const PartNumber = upload.parts.length + 1;
    const out = await call(
      'put',
      upload.key,
      (options) =>
        client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: full(upload.key),
            UploadId: upload.id,
            PartNumber,
            Body: body,
            ContentLength: body.length,
          }),
          options,
        ),
      false,
    );
    upload.parts.push({ PartNumber, ETag: out.ETag });
  }

  async function complete(upload: Upload): Promise<string | undefined> {
    const out = await call(
      'put',
      upload.key,
      (options) =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: full(upload.key),
            UploadId: upload.id,
            MultipartUpload: { Parts: upload.parts },
          }),
          options,
        ),
      false,
    );
    return out.ETag;
  }

  /**
   * Best effort: an abandoned upload is invisible and costs only storage, which a bucket
   * lifecycle rule (AbortIncompleteMultipartUpload) reclaims; the original error matters more.
   */
  async function abort(upload: Upload): Promise<void> {
    try {
      await call('put', upload.key, (options) =>
        client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: full(upload.key), UploadId: upload.id }),
          options,
        ),
      );
    } catch {
      // see above
    }
  }

  /**
   * A multipart upload learns its digest only at the end, after its metadata was fixed. Rewrite
   * the metadata with a server-side self-copy, guarded by the ETag so a newer concurrent write
   * is never stamped with our digest.
   */
  async function stampDigest(
    key: string,
    etag: string | undefined,
    size: number,
    sha256: string,
    contentType?: string,
  ) {
    if (etag === undefined || size > MAX_COPY) return;
    try {
      await call(
        'put',
        key,
        (options) =>
          client.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: full(key),
              CopySource: copySource(key),
              CopySourceIfMatch: etag,
              MetadataDirective: 'REPLACE',
              Metadata: { sha256 },
              ContentType: contentType,
            }),
            options,
          ),
        false,
      );
    } catch (error) {
      const { name, status } = describe((error as Error).cause ?? error);
      if (name !== 'PreconditionFailed' && status !== 412) throw error;
    }
  }

  async function put(key: string, source: Readable | Buffer, opts: PutOptions = {}): Promise<PutResult> {
    validateBlobKey(key);
    const expected = validateSha256(opts.sha256);
    const hash = createHash('sha256');
    const pending = new ByteQueue();
    let size = 0;
    let upload: Upload | undefined;
    try {
      // Small objects go up in one request; larger ones as parts, so memory stays near partSize.
      for await (const chunk of bufferChunks(source)) {
        hash.update(chunk);
        size += chunk.length;
        pending.push(chunk);
        while (pending.length > partSize) {
          upload ??= await createUpload(key, { contentType: opts.contentType, sha256: expected });
          await uploadPart(upload, pending.take(partSize));
        }
      }
      const sha256 = hash.digest('hex');
      // Checked before anything becomes visible: the object appears only on PutObject or Complete.
      if (expected !== undefined && expected !== sha256) throw digestMismatch(key, expected, sha256);
      if (upload === undefined) {
        const body = pending.take(pending.length);
        await call(
          'put',
          key,
          (options) =>
            client.send(
              new PutObjectCommand({
                Bucket: bucket,
                Key: full(key),
                Body: body,
                ContentLength: body.length,
                ContentType: opts.contentType,
                Metadata: { sha256 },
              }),
              options,
            ),
          false,
        );
        return { size, sha256 };
      }
      await uploadPart(upload, pending.take(pending.length));
      const etag = await complete(upload);
      upload = undefined;
      if (expected === undefined) await stampDigest(key, etag, size, sha256, opts.contentType);
      return { size, sha256 };
    } catch (error) {
      if (upload !== undefined) await abort(upload);
      throw error;
    }
  }

  async function get(key: string, range?: ByteRange): Promise<Readable> {
    validateBlobKey(key);
    if (range) validateRange(range);
    const out = await call('get', key, (options) =>
      client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: full(key),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
        options,
      ),
    );
    if (!(out.Body instanceof Readable)) {
      throw new BadGatewayError('STORAGE_FAILED', `S3 blob store: get "${key}" returned no stream body`);
    }
    const body = translatedBody('get', key, out.Body);
    return range ? exactRange(key, range, body, out.ContentRange) : body;
  }

  /**
   * Some S3-compatible servers answer a narrower range with more bytes (s3rver turns `bytes=0-0`
   * into the whole object) or ignore Range entirely; never pass on bytes nobody asked for.
   */
  function exactRange(
    key: string,
    range: ByteRange,
    body: Readable,
    contentRange: string | undefined,
  ): Readable {
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange ?? '');
    const start = match ? Number(match[1]) : 0;
    const sent = match ? Number(match[2]) - start + 1 : Number.POSITIVE_INFINITY;
    const size = match ? Number(match[3]) : Number.POSITIVE_INFINITY;
    if (start !== range.start) {
      body.destroy();
      throw new BadGatewayError(
        'STORAGE_FAILED',
        `S3 blob store: get "${key}" asked for bytes from ${range.start}, the server sent ${contentRange ?? 'the whole object'}`,
      );
    }
    const wanted = Math.min(range.end, size - 1) - range.start + 1;
    return sent > wanted ? Readable.from(firstBytes(body, wanted), { objectMode: false }) : body;
  }

  async function head(key: string): Promise<BlobInfo | null> {
    validateBlobKey(key);
    let out: HeadObjectCommandOutput;
    try {
      out = await call('head', key, (options) =>
        client.send(new HeadObjectCommand({ Bucket: bucket, Key: full(key) }), options),
      );
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
    const sha256 = out.Metadata?.sha256;
    return {
      size: out.ContentLength ?? 0,
      sha256: sha256 !== undefined && /^[0-9a-f]{64}$/.test(sha256) ? sha256 : undefined,
      etag: out.ETag,
      lastModified: out.LastModified ?? new Date(0),
      contentType: out.ContentType,
    };
  }

  /**
   * ListObjects (v1) paged by Marker: every S3-compatible server speaks it, while v2
   * continuation tokens are where they differ (s3rver's need DES, which OpenSSL 3 refuses).
   */
  async function* list(prefix: string): AsyncGenerator<BlobListEntry> {
    validateBlobPrefix(prefix);
    let marker: string | undefined;
    for (;;) {
      const page = await call('list', prefix, (options) =>
        client.send(
          new ListObjectsCommand({ Bucket: bucket, Prefix: full(prefix), MaxKeys: pageSize, Marker: marker }),
          options,
        ),
      );
      const contents = page.Contents ?? [];
      for (const object of contents) {
        const key = object.Key?.slice(keyPrefix.length) ?? '';
        // Objects other tools put under our prefix are not ours to hand out.
        if (!object.Key?.startsWith(keyPrefix) || blobKeyProblem(key) !== undefined) continue;
        yield { key, size: object.Size ?? 0 };
      }
      marker = page.NextMarker ?? contents.at(-1)?.Key;
      if (!page.IsTruncated || marker === undefined) return;
    }
  }

  const store: BlobStore = {
    put,
    get,
    head,
    delete: async (key) => {
      validateBlobKey(key);
      await call('delete', key, (options) =>
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: full(key) }), options),
      );
    },
    list,
    async close() {
      client.destroy();
    },
  };
  return store;
}
