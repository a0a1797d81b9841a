import { createReadStream } from 'node:fs';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArchiveError, relayed, UsageError } from '../common/errors.js';
import type { Credentials } from './auth.js';
import { HttpError, InterruptedError, NetworkError } from './errors.js';
import { describeFailure, oneLine, parseErrorBody } from './http.js';
import type { ProgressSink } from './progress.js';
import { displayUrl } from './urls.js';

/**
 * Uploads a base agent archive to a server's catalog (`POST /api/v1/agents/{kind}/versions/{v}`),
 * streamed from the file with its Content-Length (never buffered), with progress as it goes.
 * The server validates the archive completely and stores nothing unless it passes.
 */
export interface UploadRequest {
  /** The service's base URL (`AGENTPACK_URL`), possibly with a path prefix. */
  readonly server: URL;
  readonly kind: string;
  readonly version: string;
  readonly file: string;
  /** The file's size, sent as Content-Length. */
  readonly size: number;
  readonly credentials: Credentials;
  readonly progress: ProgressSink;
  /** Aborting it (Ctrl-C) stops the upload; the server then stores nothing. */
  readonly signal: AbortSignal;
  /** Give up when the connection is silent this long (sending, or waiting for the verdict). */
  readonly idleTimeoutMs?: number;
}

export interface UploadedVersion {
  readonly version: string;
  readonly sha256: string;
  readonly size: number;
  readonly entryCount: number;
  readonly uploadedAt: string;
}

/** Validation takes a while for a large archive once the last byte is in. */
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Answers about what was sent (the archive, the version): the user's to fix, exit 2. */
const INPUT_STATUSES = new Set([400, 409, 413, 415, 422]);

export function catalogUrl(server: URL, kind: string, version: string): URL {
  const base = new URL(server.href.endsWith('/') ? server.href : `${server.href}/`);
  base.search = '';
  base.hash = '';
  return new URL(`api/v1/agents/${encodeURIComponent(kind)}/versions/${encodeURIComponent(version)}`, base);
}

export async function uploadAgent(upload: UploadRequest): Promise<UploadedVersion> {
  const url = catalogUrl(upload.server, upload.kind, upload.version);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const request = send(url, {
    method: 'POST',
    headers: {
      ...upload.credentials.headers,
      accept: 'application/json',
      'content-type': 'application/octet-stream',
      'content-length': String(upload.size),
    },
    signal: upload.signal,
  });
  const timeoutMs = upload.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let timedOut = false;
  request.setTimeout(timeoutMs, () => {
    timedOut = true;
    request.destroy();
  });
  const fail = (error: unknown, doing: string): Error => {
    if (upload.signal.aborted) return new InterruptedError();
    if (timedOut)
      return new NetworkError(
        `${displayUrl(url)}: no answer from the server for ${timeoutMs / 1000} s while ${doing}`,
      );
    return new NetworkError(
      `${displayUrl(url)}: ${describeFailure(error, upload.credentials.secrets)} while ${doing}`,
      { cause: error },
    );
  };

  // The server may answer before reading everything (a refusal, a duplicate version): its
  // answer wins over the broken pipe that follows, so only the response is awaited.
  const answered = responseOf(request);
  let state: 'sending' | 'sent' | 'answered' = 'sending';
  sendBody(request, upload).then(
    () => {
      if (state !== 'sending') return;
      state = 'sent';
      upload.progress.finish();
    },
    () => undefined,
  );
  let response: IncomingMessage;
  try {
    response = await answered;
  } catch (error) {
    if (state === 'sending') upload.progress.stop();
    throw fail(error, state === 'sending' ? 'uploading' : 'waiting for the verdict');
  }
  if (state === 'sending') upload.progress.stop();
  state = 'answered';
  const body = await readBody(response).catch((error: unknown) => {
    throw fail(error, 'reading the answer');
  });
  if (response.statusCode === 201) return parseUploaded(body, url);
  throw answerError(response.statusCode ?? 0, body, url, upload);
}

function responseOf(request: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
}

/** Streams the file into the request, counting bytes for the progress bar. */
async function sendBody(request: ClientRequest, upload: UploadRequest): Promise<void> {
  upload.progress.start(upload.file.split(/[\\/]/).pop() ?? upload.file, upload.size, 0);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      upload.progress.advance(chunk.length);
      done(null, chunk);
    },
  });
  // Never more than the declared length, even if the file grows meanwhile.
  const file = createReadStream(upload.file, upload.size > 0 ? { start: 0, end: upload.size - 1 } : {});
  await pipeline(file, counter, request);
}

async function readBody(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      response.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseUploaded(body: Buffer, url: URL): UploadedVersion {
  try {
    const value = JSON.parse(body.toString('utf8')) as Partial<UploadedVersion>;
    if (
      typeof value.version === 'string' &&
      typeof value.sha256 === 'string' &&
      typeof value.size === 'number' &&
      typeof value.entryCount === 'number' &&
      typeof value.uploadedAt === 'string'
    )
      return value as UploadedVersion;
  } catch {
    // reported below
  }
  throw new HttpError(
    'BAD_ANSWER',
    `${displayUrl(url)}: expected the stored version as JSON, found something else`,
    201,
  );
}

/**
 * A refusal about the archive or version is the user's to fix (exit 2, the server's reason);
 * credentials, permissions and server failures are reported like download failures (exit 3).
 */
function answerError(status: number, body: Buffer, url: URL, upload: UploadRequest): Error {
  const { code, message } = parseErrorBody(body);
  const reason = message === undefined ? undefined : oneLine(message, upload.credentials.secrets);
  const name = upload.file.split(/[\\/]/).pop() ?? upload.file;
  if (status === 422) return new ArchiveError(`${name}: ${reason ?? 'the server refused the archive'}`);
  if (INPUT_STATUSES.has(status))
    return new UsageError(`${name}: ${reason ?? `the server answered HTTP ${status}`}`);
  const said = [code, reason].filter(Boolean).join(': ');
  const hint =
    status === 401
      ? 'the server refused the credentials in AGENTPACK_AUTH and AGENTPACK_API_KEY'
      : status === 403
        ? 'uploading agents needs a system admin'
        : status === 404
          ? 'is --server the agentpack service?'
          : status >= 500
            ? 'a server error; retry later'
            : undefined;
  return new HttpError(
    relayed(code ?? `HTTP_${status}`),
    `${displayUrl(url)}: HTTP ${status}${said === '' ? '' : ` ${said}`}${hint === undefined ? '' : ` (${hint})`}`,
    status,
  );
}
