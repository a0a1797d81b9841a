import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseRange } from '../bundles/ranges.js';
import type { Bundle, BundleService } from '../bundles/service.js';
import { BadRequestError, RangeNotSatisfiableError } from '../common/errors.js';

/** Where the statement and signature of the bundle at `bundleUrl` live (relative URLs). */
export interface VerificationLinks {
  readonly statement: string;
  readonly signature: string;
}

/** Names the identity of the bundle a response is about (its statement and signature are addressed by it). */
export const BUNDLE_ID_HEADER = 'X-Agentpack-Bundle-Id';

/** The `Link` value naming a bundle's statement and signature. */
export function verificationLinkHeader(links: VerificationLinks): string {
  return `<${links.statement}>; rel="agentpack-statement", <${links.signature}>; rel="agentpack-signature"`;
}

/**
 * From a route under `/api/v1/orgs/{orgId}/agents/{kind}/{version}/`, the identity-addressed
 * statement and signature: `/api/v1/orgs/{orgId}/bundles/{id}/bundle.sha256` and `.sig`.
 * Relative, so they stay right behind a proxy that mounts the service under a path prefix.
 */
export function identityLinksFromAgentRoute(bundleId: string): VerificationLinks {
  const stem = `../../../bundles/${bundleId}/bundle`;
  return { statement: `${stem}.sha256`, signature: `${stem}.sig` };
}

const CONTENT_TYPES = { jar: 'application/java-archive', zip: 'application/zip' } as const;

/**
 * Answers a bundle request: ETag (the SHA-256), If-None-Match (304), a single Range (206/416,
 * If-Range honoured), Content-Disposition, Repr-Digest, the bundle's identity and links to the
 * statement and signature of exactly these bytes (addressed by identity, so a rotation between
 * this response and the client's next request does not change what they name).
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
    .header(BUNDLE_ID_HEADER, row.id)
    .header('Link', verificationLinkHeader(links))
    .type(CONTENT_TYPES[kind.archive]);
  if (etagMatches(request.headers['if-none-match'], row.sha256)) {
    reply.code(304).send();
    return { sent: 'not-modified', carriesConfig: false };
  }
  const ifRange = request.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === etag ? request.headers.range : undefined;
  const range = parseRange(rangeHeader, row.size);
  if (range.kind === 'malformed') throw new BadRequestError('BAD_RANGE', range.reason);
  if (range.kind === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${row.size}`);
    throw new RangeNotSatisfiableError(`Range '${rangeHeader}' lies outside the bundle's ${row.size} bytes`);
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

/** A statement, with the identity it belongs to and where its signature is. */
export function replyWithStatement(reply: FastifyReply, bundle: Bundle, links: VerificationLinks): string {
  reply
    .header('Cache-Control', 'private, no-cache')
    .header('ETag', `"${bundle.row.sha256}"`)
    .header(BUNDLE_ID_HEADER, bundle.row.id)
    .header('Link', verificationLinkHeader(links))
    .type('text/plain; charset=utf-8');
  return bundle.row.statement;
}

/** The raw signature over a statement, with the identity it belongs to. */
export function replySignature(reply: FastifyReply, bundle: Bundle): Buffer {
  reply
    .header('Cache-Control', 'private, no-cache')
    .header(BUNDLE_ID_HEADER, bundle.row.id)
    .type('application/octet-stream');
  return Buffer.from(bundle.row.signature, 'base64');
}
