import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseRange } from '../bundles/ranges.js';
import type { Bundle, BundleService } from '../bundles/service.js';
import { AgentpackError } from '../errors.js';

export type BundleFormat = 'embedded' | 'zip';

/** Where the statement and signature of the bundle at `bundleUrl` live (relative URLs). */
export interface VerificationLinks {
  readonly statement: string;
  readonly signature: string;
}

const CONTENT_TYPES = { jar: 'application/java-archive', zip: 'application/zip' } as const;

/**
 * Answers a bundle request: ETag (the SHA-256), If-None-Match (304), a single Range (206/416,
 * If-Range honoured), Content-Disposition, Repr-Digest and links to the verification files.
 * The body streams: the base's prefix from the blob store, then the tail.
 */
export async function replyWithBundle(
  service: BundleService,
  request: FastifyRequest,
  reply: FastifyReply,
  bundle: Bundle,
  links: VerificationLinks,
): Promise<{ sent: 'full' | 'range' | 'not-modified' | 'head'; carriesConfig: boolean }> {
  const { row, kind } = bundle;
  const etag = `"${row.sha256}"`;
  reply
    .header('ETag', etag)
    .header('Cache-Control', 'private, no-cache')
    .header('Accept-Ranges', 'bytes')
    .header('Repr-Digest', `sha-256=:${Buffer.from(row.sha256, 'hex').toString('base64')}:`)
    .header('Content-Disposition', `attachment; filename="${row.fileName}"`)
    .header(
      'Link',
      `<${links.statement}>; rel="agentpack-statement", <${links.signature}>; rel="agentpack-signature"`,
    )
    .type(CONTENT_TYPES[kind.archive]);
  if (etagMatches(request.headers['if-none-match'], row.sha256)) {
    reply.code(304).send();
    return { sent: 'not-modified', carriesConfig: false };
  }
  const ifRange = request.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
  const range = parseRange(rangeHeader, row.size);
  if (range.kind === 'malformed') throw new AgentpackError('BAD_RANGE', range.reason, 400);
  if (range.kind === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${row.size}`);
    throw new AgentpackError(
      'RANGE_NOT_SATISFIABLE',
      `Range '${rangeHeader}' lies outside the bundle's ${row.size} bytes`,
      416,
    );
  }
  const slice = range.kind === 'range' ? range.range : { start: 0, end: row.size - 1 };
  if (range.kind === 'range')
    reply.code(206).header('Content-Range', `bytes ${slice.start}-${slice.end}/${row.size}`);
  reply.header('Content-Length', String(slice.end - slice.start + 1));
  if (request.method === 'HEAD') {
    reply.send();
    return { sent: 'head', carriesConfig: false };
  }
  const body = await service.open(bundle, slice);
  // Decided from the bytes served, not from how the Range was spelled: any byte of the config
  // entry or the directory after it makes this a download of the keys.
  const carriesConfig = slice.end >= (await service.configOffset(bundle));
  reply.send(body);
  return { sent: range.kind === 'range' ? 'range' : 'full', carriesConfig };
}

/** RFC 9110 If-None-Match: `*`, or a list of (possibly weak) entity tags. */
export function etagMatches(header: string | string[] | undefined, sha256: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') return true;
  return value.split(',').some((tag) => tag.trim().replace(/^W\//, '') === `"${sha256}"`);
}

/** The rendered config alone: secrets, so never cached anywhere. */
export async function replyWithConfig(
  service: BundleService,
  reply: FastifyReply,
  bundle: Bundle,
): Promise<Buffer> {
  const config = await service.config(bundle);
  const name = bundle.kind.target.split('/').pop() as string;
  reply
    .header('Cache-Control', 'no-store')
    .header('Content-Disposition', `attachment; filename="${name}"`)
    .type(bundle.kind.format === 'yaml' ? 'application/yaml; charset=utf-8' : 'text/plain; charset=utf-8');
  return config;
}

export async function replyWithZip(
  service: BundleService,
  request: FastifyRequest,
  reply: FastifyReply,
  bundle: Bundle,
): Promise<void> {
  const { stream, fileName } = await service.zip(bundle);
  reply
    .header('Cache-Control', 'private, no-store')
    .header('Content-Disposition', `attachment; filename="${fileName}"`)
    .header('Accept-Ranges', 'none')
    .type('application/zip');
  if (request.method === 'HEAD') {
    stream.destroy();
    reply.send();
    return;
  }
  reply.send(stream);
}
