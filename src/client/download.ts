import type { Hash, KeyObject } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { lstat, open, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  MAX_STATEMENT_BYTES,
  type StatementFields,
  sha256File,
  VerificationError,
} from '../bundles/signature.js';
import { writeAll, writeFileDurably } from '../common/durable.js';
import type { Credentials } from './auth.js';
import { HttpError, InterruptedError, NetworkError } from './errors.js';
import {
  type Exchange,
  etagValue,
  httpError,
  readSmallBody,
  reprDigestHex,
  type Session,
  send,
} from './http.js';
import { loadPublicKeys } from './keys.js';
import { PartFile } from './part-file.js';
import { formatBytes, type ProgressSink } from './progress.js';
import {
  type CompanionUrls,
  companionUrls,
  companionUrlsFromLink,
  displayUrl,
  isSignedLink,
  jwksUrl,
  parseLinkHeader,
  SIGNATURE_REL,
  signedLinkToken,
} from './urls.js';
import { checkSignedStatement, checkStatementMatchesUrl } from './verification.js';

/**
 * Downloads one bundle the careful way: statement and signature first, checked against a
 * trusted key; then the bundle into a hidden part file (resumed when an earlier attempt was cut
 * off), hashed as it is written; only a complete bundle whose SHA-256 is the signed one is
 * renamed to the target, with its `.sha256` and `.sig` beside it for `sha256sum` and `openssl`.
 * When keys rotate between the statement and the bundle, the bundle response names the
 * statement of exactly its bytes (by identity), and that one is checked instead.
 */
export interface DownloadRequest {
  readonly url: URL;
  /** Directory to write into. */
  readonly directory: string;
  /** File name in `directory`; default: the name the statement gives. */
  readonly fileName?: string;
  /** Resolves a relative `key` path. */
  readonly cwd: string;
  /** Header credentials (not sent to signed links or other origins). */
  readonly credentials?: Credentials;
  /** A pinned public key: PEM or JWKS, file or URL. Default: the server's JWKS. */
  readonly key?: string;
  /** Resume an interrupted download and keep the part file when interrupted by the network. */
  readonly resume: boolean;
  readonly progress: ProgressSink;
  /** Aborting it (Ctrl-C) stops the transfer and removes the part file. */
  readonly signal: AbortSignal;
  readonly idleTimeoutMs?: number;
}

export interface DownloadResult extends StatementFields {
  /** The bundle's path. */
  readonly path: string;
  readonly size: number;
  /** The server answered 304 and the file already there is the signed bundle. */
  readonly unchanged: boolean;
  /** Bytes an earlier attempt had left, 0 when the download started from scratch. */
  readonly resumedFrom: number;
}

const MAX_SIGNATURE_BYTES = 4096;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** The bundle changed between reading its statement and its bytes (a new version went live). */
class BundleChangedError extends NetworkError {}

export async function downloadBundle(request: DownloadRequest): Promise<DownloadResult> {
  const token = signedLinkToken(request.url);
  const session: Session = {
    signal: request.signal,
    auth:
      request.credentials === undefined || isSignedLink(request.url)
        ? undefined
        : { origin: request.url.origin, headers: request.credentials.headers },
    secrets: [...(request.credentials?.secrets ?? []), ...(token === undefined ? [] : [token])],
    idleTimeoutMs: request.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
  };
  try {
    return await attempt(request, session);
  } catch (error) {
    // One retry reads the new statement; a second change in a row is reported.
    if (error instanceof BundleChangedError) return await attempt(request, session);
    throw error;
  }
}

async function attempt(request: DownloadRequest, session: Session): Promise<DownloadResult> {
  const companions = companionUrls(request.url) ?? (await linkedCompanions(session, request.url));
  const signed = await signedStatement(request, session, companions);
  const job: Job = { request, session, ...signed, ...targetFor(request, signed.fields) };
  try {
    return await fetchBundle(job);
  } catch (error) {
    // job.part, not the first one: the bundle may have turned out to be another (a rotation).
    if (error instanceof InterruptedError || request.signal.aborted) {
      await job.part.remove();
      throw new InterruptedError();
    }
    // The network or the server failed: what arrived stays to resume from. Anything else
    // (a local write error, a bad bundle) leaves nothing behind.
    if (!(error instanceof NetworkError || error instanceof HttpError)) await job.part.remove();
    throw error;
  }
}

/** Where a bundle this statement signs goes; the statement must be for what the URL asks. */
function targetFor(request: DownloadRequest, fields: StatementFields): { target: string; part: PartFile } {
  checkStatementMatchesUrl(fields, request.url);
  const target = join(request.directory, request.fileName ?? plainFileName(fields.fileName));
  return { target, part: new PartFile(target) };
}

/**
 * A file name from a statement becomes a path: only a plain, visible name (no dot first, so
 * never `.bashrc` or `..`), whatever the signature says.
 */
function plainFileName(name: string): string {
  if (/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name)) return name;
  throw new VerificationError(
    'FILE_NAME_UNSAFE',
    `the statement names the file ${JSON.stringify(name.slice(0, 80))}, expected a plain name ([A-Za-z0-9._-], not starting with a dot); give one with -o`,
  );
}

/**
 * Statement and signature come in two requests. A statement names the signature of its own
 * identity (Link), so the pair always matches; from a server that does not, a new version
 * going live between them gives a pair that does not match, and one fresh pair is fetched
 * before a bad signature counts.
 */
async function signedStatement(
  request: DownloadRequest,
  session: Session,
  companions: CompanionUrls,
  known?: ReadonlyMap<string, KeyObject>,
): Promise<Signed> {
  let keys = known;
  for (let round = 0; ; round++) {
    const statement = await fetchSmall(session, companions.statement, MAX_STATEMENT_BYTES, 'statement');
    const signatureUrl =
      parseLinkHeader(statement.link ?? '', statement.url).get(SIGNATURE_REL) ?? companions.signature;
    const signature = await fetchSmall(session, signatureUrl, MAX_SIGNATURE_BYTES, 'signature');
    keys ??= await loadPublicKeys(request.key ?? jwksUrl(request.url).href, request.cwd, request.signal);
    try {
      const fields = checkSignedStatement(statement.body, signature.body, keys);
      return { statement: statement.body, signature: signature.body, fields, keys };
    } catch (error) {
      const mismatch = error instanceof VerificationError && error.code === 'SIGNATURE_INVALID';
      if (!mismatch || round > 0) throw error;
    }
  }
}

interface Signed {
  readonly fields: StatementFields;
  readonly statement: Buffer;
  readonly signature: Buffer;
  readonly keys: ReadonlyMap<string, KeyObject>;
}

/** One download; statement and target change when the server turns out to serve another bundle. */
interface Job {
  readonly request: DownloadRequest;
  readonly session: Session;
  readonly keys: ReadonlyMap<string, KeyObject>;
  fields: StatementFields;
  statement: Buffer;
  signature: Buffer;
  target: string;
  part: PartFile;
}

/** The bundle request, repeated when an answer says to start over (416, a mismatched range, a damaged copy). */
async function fetchBundle(job: Job): Promise<DownloadResult> {
  const { request, session, fields, target, part } = job;
  const hex = fields.sha256Hex;
  let cached = await previousDigest(target);
  let offset = 0;
  if (request.resume) offset = await part.resumableBytes(hex);
  else await part.remove();
  for (let round = 0; round < 3; round++) {
    const headers: Record<string, string> = {};
    if (cached !== undefined) headers['if-none-match'] = `"${cached}"`;
    if (offset > 0) Object.assign(headers, { range: `bytes=${offset}-`, 'if-range': `"${hex}"` });
    const exchange = await send(session, request.url, { headers });
    const { response } = exchange;
    if (response.status === 304 && cached !== undefined) {
      await discard(exchange);
      if ((await sha256File(target)) === hex) return finishUnchanged(job);
      cached = undefined; // the copy on disk is damaged: fetch the bundle whole
      continue;
    }
    if (response.status === 416 && offset > 0) {
      await discard(exchange);
      await part.remove();
      offset = 0;
      continue;
    }
    if (response.status !== 200 && response.status !== 206) throw await httpError(exchange, session);
    if (await switchToServedBundle(job, exchange))
      return await receive(job, exchange, 0, contentLength(response));
    const range = response.status === 206 ? contentRange(response.headers.get('content-range')) : undefined;
    if (response.status === 206 && range?.start !== offset) {
      await discard(exchange);
      await part.remove();
      offset = 0;
      continue;
    }
    const start = range === undefined ? 0 : offset;
    const total = range?.total ?? contentLength(response);
    return await receive(job, exchange, start, total);
  }
  throw new HttpError('NO_PROGRESS', `${displayUrl(request.url)}: the server kept asking to start over`, 502);
}

/** Streams the body into the part file, hashing as it goes, then verifies and commits. */
async function receive(
  job: Job,
  exchange: Exchange,
  start: number,
  total: number | undefined,
): Promise<DownloadResult> {
  const { request, fields, part, target } = job;
  const handle = await part.open(fields.sha256Hex, start);
  let hash: Hash;
  let received = start;
  let writing = false;
  try {
    hash = await part.hashOfFirst(start);
    request.progress.start(basename(target), total, start);
    for await (const chunk of exchange.response.body ?? []) {
      exchange.touch();
      writing = true;
      hash.update(chunk);
      await writeAll(handle, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      writing = false;
      received += chunk.byteLength;
      request.progress.advance(chunk.byteLength);
    }
    exchange.done();
    writing = true;
    await handle.sync();
  } catch (error) {
    request.progress.stop();
    await handle.close().catch(() => undefined);
    if (writing) {
      await exchange.response.body?.cancel().catch(() => undefined);
      await part.remove();
      throw error;
    }
    const failure = exchange.failure(error, 'downloading');
    if (failure instanceof InterruptedError) throw failure;
    throw await interrupted(job, failure.message, received, total);
  }
  await handle.close();
  if (total !== undefined && received < total)
    throw await interrupted(job, `${displayUrl(exchange.url)}: the transfer ended early`, received, total);
  request.progress.finish();
  return commit(job, received, start, hash.digest('hex'), total);
}

async function commit(
  job: Job,
  received: number,
  start: number,
  actual: string,
  total: number | undefined,
): Promise<DownloadResult> {
  const { fields, part, target } = job;
  if (total !== undefined && received !== total) {
    await part.remove();
    throw new HttpError(
      'SIZE_MISMATCH',
      `${basename(target)}: expected ${total} bytes, the server sent ${received}; nothing was kept`,
      502,
    );
  }
  if (actual !== fields.sha256Hex) {
    await part.remove();
    throw new VerificationError(
      'DIGEST_MISMATCH',
      `${basename(target)}: digest mismatch: the signed statement says ${fields.sha256Hex}, the server sent ${actual}; the download was discarded`,
    );
  }
  await part.commit();
  await writeCompanions(job);
  return { ...fields, path: target, size: received, unchanged: false, resumedFrom: start };
}

/** A network failure mid-body: keep the part file to resume from, unless resuming is off. */
async function interrupted(
  job: Job,
  what: string,
  received: number,
  total: number | undefined,
): Promise<NetworkError> {
  const of =
    total === undefined ? formatBytes(received) : `${formatBytes(received)} of ${formatBytes(total)}`;
  if (!job.request.resume || received === 0) {
    await job.part.remove();
    return new NetworkError(`${what} after ${of}; nothing was kept`);
  }
  return new NetworkError(`${what} after ${of}; run the same command again to resume`);
}

async function finishUnchanged(job: Job): Promise<DownloadResult> {
  await writeCompanions(job);
  const size = (await lstat(job.target)).size;
  return { ...job.fields, path: job.target, size, unchanged: true, resumedFrom: 0 };
}

/** `FILE.sha256` and `FILE.sig` beside the bundle, each replaced atomically when it changed. */
async function writeCompanions(job: Job): Promise<void> {
  for (const [suffix, bytes] of [
    ['.sha256', job.statement],
    ['.sig', job.signature],
  ] as const) {
    const path = `${job.target}${suffix}`;
    const existing = await readFile(path).catch(() => undefined);
    if (existing?.equals(bytes) === true) continue;
    await writeFileDurably(path, bytes, { component: 'download' });
  }
}

/** The digest of the copy a previous download left, when both it and its `.sha256` are there. */
async function previousDigest(target: string): Promise<string | undefined> {
  const stats = await lstat(target).catch(() => undefined);
  if (stats?.isFile() !== true) return undefined;
  let handle: FileHandle;
  try {
    handle = await open(`${target}.sha256`, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, 64, 0);
    const text = head.subarray(0, bytesRead).toString('latin1');
    return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
  } finally {
    await handle.close();
  }
}

/** When the bundle URL has no conventional shape, its `Link` header names the statement and signature. */
async function linkedCompanions(session: Session, url: URL): Promise<CompanionUrls> {
  const exchange = await send(session, url, { method: 'HEAD' });
  if (!exchange.response.ok) throw await httpError(exchange, session);
  await discard(exchange);
  const companions = companionUrlsFromLink(exchange.response.headers.get('link'), exchange.url);
  if (companions === undefined)
    throw new HttpError(
      'NO_STATEMENT_LINK',
      `${displayUrl(url)}: the response names no statement and signature (Link rel="agentpack-statement", rel="agentpack-signature"); is this an agentpack bundle URL?`,
      exchange.response.status,
    );
  return companions;
}

async function fetchSmall(
  session: Session,
  url: URL,
  limit: number,
  what: string,
): Promise<{ body: Buffer; link: string | null; url: URL }> {
  const exchange = await send(session, url);
  if (exchange.response.status !== 200) throw await httpError(exchange, session);
  const body = await readSmallBody(exchange, limit, `reading the ${what}`);
  if (body === undefined)
    throw new VerificationError(
      what === 'signature' ? 'SIGNATURE_INVALID' : 'STATEMENT_INVALID',
      `${displayUrl(url)}: expected a ${what} of at most ${limit} bytes, found more`,
    );
  return { body, link: exchange.response.headers.get('link'), url: exchange.url };
}

/**
 * The bundle's ETag (and Repr-Digest) must be the digest the statement in hand signs. When a
 * new bundle went live since it was read (a rotation, a new version), a whole response names
 * the statement and signature of exactly its bytes (Link, by identity): they are checked like
 * the first and the job follows them (true). Without them, or for a part of another bundle,
 * the attempt starts over (BundleChangedError).
 */
async function switchToServedBundle(job: Job, exchange: Exchange): Promise<boolean> {
  const hex = job.fields.sha256Hex;
  const headers = exchange.response.headers;
  const served = [etagValue(headers.get('etag')), reprDigestHex(headers.get('repr-digest'))].filter(
    (value) => value !== undefined,
  );
  if (served.every((value) => value === hex)) return false;
  const changed = (now: string) =>
    new BundleChangedError(
      `${displayUrl(exchange.url)}: the bundle changed on the server while downloading (it is now ${now}, the signed statement says ${hex}); run the command again`,
    );
  const other = served.find((value) => value !== hex) as string;
  const named = companionUrlsFromLink(headers.get('link'), exchange.url);
  if (exchange.response.status !== 200 || named === undefined || served.some((value) => value !== other)) {
    await discard(exchange);
    throw changed(other);
  }
  try {
    const signed = await signedStatement(job.request, job.session, named, job.keys);
    if (signed.fields.sha256Hex !== other) throw changed(other);
    const next = targetFor(job.request, signed.fields);
    // What an earlier attempt left belongs to a bundle that is no longer served.
    await job.part.remove();
    job.fields = signed.fields;
    job.statement = signed.statement;
    job.signature = signed.signature;
    job.target = next.target;
    job.part = next.part;
    return true;
  } catch (error) {
    await discard(exchange);
    throw error;
  }
}

async function discard(exchange: Exchange): Promise<void> {
  exchange.done();
  await exchange.response.body?.cancel().catch(() => undefined);
}

/** `bytes START-END/TOTAL`; undefined when malformed. */
function contentRange(header: string | null): { start: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (match === null) return undefined;
  const start = Number(match[1]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (Number(match[2]) < start || (total !== undefined && Number(match[2]) >= total)) return undefined;
  return { start, total };
}

function contentLength(response: Response): number | undefined {
  const header = response.headers.get('content-length');
  return header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
}
