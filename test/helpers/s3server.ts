import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The part of @20minutes/s3rver (plain JS, no typings) these tests use. */
interface S3rver {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  allowMismatchedSignatures: boolean;
  vhostBuckets: boolean;
  configureBuckets: { name: string }[];
}) => S3rver;

export interface S3RequestRecord {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Where s3rver keeps its files; an object `k` is the file `<bucket>/<k>._S3rver_object`. */
  directory: string;
  /** Every request the server received, so tests can tell a server-side copy from a download. */
  requests: S3RequestRecord[];
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

/**
 * Starts a real S3-protocol server in this process, on 127.0.0.1 and a free port, backed by a
 * temp directory that `close()` removes. Signatures are not checked, so any credentials work.
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? 'agentpack-test';
  const S3rver = require('@20minutes/s3rver') as S3rverClass;
  const directory = await mkdtemp(path.join(os.tmpdir(), 'agentpack-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const requests: S3RequestRecord[] = [];
  server.httpServer?.on('request', (req: { method?: string; url?: string; headers: IncomingHttpHeaders }) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
  });
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    directory,
    requests,
    async close() {
      const closing = server.close();
      // Idle keep-alive sockets of SDK clients would otherwise hold close() open.
      server.httpServer?.closeAllConnections();
      await closing;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
