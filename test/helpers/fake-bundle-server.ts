/**
 * A small stand-in for the service's download endpoints, following the contract in
 * shared/DESIGN.md exactly (bundle, `.sha256`, `.sig`, the statement and signature by identity
 * that a bundle response names, signed links and their creation, well-known keys, Range,
 * If-Range, If-None-Match, JSON errors), plus faults the real service would never produce on
 * purpose: a connection cut mid-body, a flipped byte, a statement signed by another key, a
 * server that ignores Range, a stall. Every request is recorded with the body bytes it got.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkLink, signLink } from '../../src/bundles/links.js';
import { parseRange } from '../../src/bundles/ranges.js';
import { buildStatement, signStatement } from '../../src/bundles/signature.js';
import {
  generateSigningKey,
  jwksDocument,
  publicKeyPem,
  type SigningKey,
} from '../../src/bundles/signing-keys.js';

export interface FakeBundle {
  readonly orgId: string;
  readonly kind: string;
  readonly version: string;
  readonly bytes: Buffer;
  readonly fileName: string;
  readonly sha256Hex: string;
  /** The file name its statement gives, when not `fileName` (a hostile server). */
  readonly statementFileName?: string;
}

export interface Faults {
  /** Close the connection after this many body bytes of a bundle response. */
  cutAfter?: number;
  /** Flip one byte in the middle of every bundle body (statement and ETag stay honest). */
  tamper?: boolean;
  /** Answer a Range request with 200 and the whole bundle. */
  ignoreRange?: boolean;
  /** Send this many body bytes, then nothing more (the connection stays open). */
  stallAfter?: number;
  /** Statements are signed by this key, naming it (a key the server does not publish). */
  foreignSigner?: SigningKey;
  /** Statements name the published key but are signed by this one. */
  forgedBy?: SigningKey;
  /** Every response answers this status with a JSON error. */
  failWith?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  status: number;
  /** Body bytes actually written (0 for 304 and HEAD). */
  bodyBytes: number;
}

export interface FakeUser {
  readonly orgId: string;
  readonly email: string;
  readonly serviceKey: string;
  readonly apiKey: string;
}

const ISSUED_AT = new Date('2026-11-26T14:00:00Z');
const CHUNK = 16 * 1024;

export class FakeBundleServer {
  readonly key: SigningKey = generateSigningKey();
  /** Another published key, so clients must pick by key id. */
  readonly otherKey: SigningKey = generateSigningKey();
  readonly user: FakeUser = {
    orgId: 'acme',
    email: 'ci@acme.example',
    serviceKey: `apu_${base62(12)}_${base62(30)}`,
    apiKey: `apo_${base62(12)}_${base62(30)}`,
  };
  readonly requests: RecordedRequest[] = [];
  faults: Faults = {};
  /** Emitted body bytes of bundle responses, for tests that act mid-transfer. */
  onBundleBytes: ((sent: number) => void) | undefined;
  /** Called as each request arrives, before it is answered. */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  /**
   * Extra paths serving a bundle (header auth) with absolute-path Link headers to its API
   * statement and signature: a URL shape a client only understands through the Link header.
   */
  readonly aliases = new Map<string, { orgId: string; kind: string; version: string }>();
  private readonly bundles = new Map<string, FakeBundle[]>();
  /** Every bundle ever published, by identity (here its digest): replaced ones stay addressable. */
  private readonly byIdentity = new Map<string, FakeBundle>();
  private readonly linkKey = randomBytes(32);
  private server: Server | undefined;
  base = '';

  static async start(): Promise<FakeBundleServer> {
    const fake = new FakeBundleServer();
    fake.server = createServer((request, response) => fake.handle(request, response));
    await new Promise<void>((resolve) => fake.server?.listen(0, '127.0.0.1', resolve));
    fake.base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /**
   * Adds a version (or replaces its bytes, as a rotation does); the last one published for an
   * org and kind is `latest`. `statementFileName` makes its statement name another file.
   */
  publish(
    orgId: string,
    kind: string,
    version: string,
    bytes: Buffer,
    options: { statementFileName?: string } = {},
  ): FakeBundle {
    const fileName = `agentpack-${kind}-${version}-${orgId}.${kind === 'node' ? 'zip' : 'jar'}`;
    const sha256Hex = createHash('sha256').update(bytes).digest('hex');
    const bundle = { orgId, kind, version, bytes, fileName, sha256Hex, ...options };
    this.byIdentity.set(sha256Hex, bundle);
    const list = (this.bundles.get(`${orgId}/${kind}`) ?? []).filter((b) => b.version !== version);
    this.bundles.set(`${orgId}/${kind}`, [...list, bundle]);
    return bundle;
  }

  bundleUrl(orgId: string, kind: string, version: string): string {
    return `${this.base}/api/v1/orgs/${orgId}/agents/${kind}/${version}/bundle`;
  }

  /** A signed link; `expired` makes one the server refuses with 403. */
  link(orgId: string, kind: string, version: string, options: { expired?: boolean } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const token = signLink(
      {
        orgId,
        bundleId: `${kind}/${version}`,
        format: 'bundle',
        expiresAt: options.expired ? now - 60 : now + 3600,
      },
      this.linkKey,
    );
    return `${this.base}/dl/${token}`;
  }

  /** The environment a CI job sets for header authentication. */
  env(): Record<string, string> {
    return {
      AGENTPACK_AUTH: `${this.user.email}:${this.user.serviceKey}`,
      AGENTPACK_API_KEY: this.user.apiKey,
    };
  }

  publicKeyPem(): string {
    return publicKeyPem(this.key.publicKey);
  }

  /** The statement and signature URLs of one bundle identity (header authentication). */
  identityUrl(bundle: FakeBundle, suffix: '.sha256' | '.sig'): string {
    return `${this.base}/api/v1/orgs/${bundle.orgId}/bundles/${bundle.sha256Hex}/bundle${suffix}`;
  }

  /** Requests for bundle bytes (not statements, signatures or keys). */
  bundleRequests(): RecordedRequest[] {
    return this.requests.filter((r) => /\/bundle$|^\/dl\/[^/]+$/.test(r.path));
  }

  /** The bundle's statement and signature, as the faults in force say to make them. */
  statementOf(bundle: FakeBundle): { statement: Buffer; signature: Buffer } {
    const signer = this.faults.foreignSigner ?? this.key;
    const { sha256Hex, fileName, orgId, kind, version } = bundle;
    let statement = buildStatement({
      sha256Hex,
      fileName,
      orgId,
      kind,
      version,
      issuedAt: ISSUED_AT,
      keyId: signer.keyId,
    });
    // buildStatement refuses a name with a slash; a hostile server writes what it likes.
    if (bundle.statementFileName !== undefined)
      statement = Buffer.from(
        statement.toString('utf8').replace(`  ${fileName}\n`, `  ${bundle.statementFileName}\n`),
      );
    return { statement, signature: signStatement(statement, this.faults.forgedBy ?? signer) };
  }

  private handle(request: IncomingMessage, response: ServerResponse): undefined {
    const path = new URL(request.url ?? '/', this.base).pathname;
    const record: RecordedRequest = {
      method: request.method ?? 'GET',
      path,
      headers: request.headers,
      status: 0,
      bodyBytes: 0,
    };
    this.requests.push(record);
    this.onRequest?.(record);
    response.on('close', () => {
      record.status = response.statusCode;
    });
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer): undefined => {
      response.writeHead(status, headers);
      if (body !== undefined && record.method !== 'HEAD') {
        record.bodyBytes += body.length;
        response.end(body);
      } else response.end();
    };
    const fail = (status: number, error: string, message: string): undefined =>
      send(status, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ error, message })));

    if (this.faults.failWith !== undefined) return fail(this.faults.failWith, 'FAULT', 'injected failure');
    if (path === '/.well-known/agentpack/signing-key.pem')
      return send(200, { 'content-type': 'application/x-pem-file' }, Buffer.from(this.publicKeyPem()));
    if (path === '/.well-known/agentpack/jwks.json')
      return send(
        200,
        { 'content-type': 'application/jwk-set+json' },
        Buffer.from(JSON.stringify(jwksDocument([this.otherKey, this.key]))),
      );
    const pem = /^\/\.well-known\/agentpack\/signing-keys\/([0-9a-f]{16})\.pem$/.exec(path);
    if (pem !== null) {
      const key = [this.key, this.otherKey].find((k) => k.keyId === pem[1]);
      if (key === undefined) return fail(404, 'NOT_FOUND', 'no such signing key');
      return send(
        200,
        { 'content-type': 'application/x-pem-file' },
        Buffer.from(publicKeyPem(key.publicKey)),
      );
    }
    const links = /^\/api\/v1\/orgs\/([^/]+)\/agents\/([^/]+)\/([^/]+)\/links$/.exec(path);
    if (links !== null && record.method === 'POST') {
      const [, orgId, kind, version] = links as unknown as [string, string, string, string];
      if (!this.authorized(request)) return fail(401, 'UNAUTHORIZED', 'invalid credentials');
      const bundle = orgId === this.user.orgId ? this.find(orgId, kind, version) : undefined;
      if (bundle === undefined) return fail(404, 'NOT_FOUND', 'no such agent version');
      const url = this.link(orgId, kind, bundle.version);
      const answer = {
        url,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        sha256: bundle.sha256Hex,
      };
      request.resume();
      return send(201, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(answer)));
    }
    const identity = /^\/api\/v1\/orgs\/([^/]+)\/bundles\/([0-9a-f]{64})\/bundle(\.sha256|\.sig)$/.exec(path);
    if (identity !== null) {
      if (!this.authorized(request)) return fail(401, 'UNAUTHORIZED', 'invalid credentials');
      const bundle = this.byIdentity.get(identity[2] as string);
      if (bundle === undefined || bundle.orgId !== identity[1])
        return fail(404, 'NOT_FOUND', 'no such bundle');
      const { statement, signature } = this.statementOf(bundle);
      return identity[3] === '.sha256'
        ? send(200, { 'content-type': 'text/plain; charset=utf-8', link: identityLinks(bundle) }, statement)
        : send(200, { 'content-type': 'application/octet-stream' }, signature);
    }

    const alias = this.aliases.get(path);
    if (alias !== undefined) {
      if (!this.authorized(request)) return fail(401, 'UNAUTHORIZED', 'invalid credentials');
      const bundle = this.find(alias.orgId, alias.kind, alias.version);
      if (bundle === undefined) return fail(404, 'NOT_FOUND', 'no such agent version');
      this.serveBundle(request, response, record, bundle, identityLinks(bundle));
      return;
    }
    const api = /^\/api\/v1\/orgs\/([^/]+)\/agents\/([^/]+)\/([^/]+)\/bundle(\.sha256|\.sig)?$/.exec(path);
    const link = /^\/dl\/([^/]+)(\/bundle\.sha256|\/bundle\.sig)?$/.exec(path);
    let bundle: FakeBundle | undefined;
    let suffix: string;
    let companions: string;
    if (api !== null) {
      const [, orgId, kind, version] = api as unknown as [string, string, string, string];
      if (!this.authorized(request)) return fail(401, 'UNAUTHORIZED', 'invalid credentials');
      if (orgId !== this.user.orgId) return fail(404, 'NOT_FOUND', `no organization ${orgId}`);
      bundle = this.find(orgId, kind, version);
      suffix = api[4] ?? '';
      companions = bundle === undefined ? '' : identityLinks(bundle);
    } else if (link !== null) {
      const token = link[1] as string;
      const check = checkLink(token, this.linkKey, Math.floor(Date.now() / 1000));
      if (!check.ok) return fail(403, 'LINK_INVALID', `link ${check.reason}`);
      const [kind, version] = check.claims.bundleId.split('/') as [string, string];
      bundle = this.find(check.claims.orgId, kind, version);
      suffix = (link[2] ?? '').replace('/bundle', '');
      companions = `</dl/${token}/bundle.sha256>; rel="agentpack-statement", </dl/${token}/bundle.sig>; rel="agentpack-signature"`;
    } else return fail(404, 'NOT_FOUND', 'no such route');
    if (bundle === undefined) return fail(404, 'NOT_FOUND', 'no such agent version');
    const { statement, signature } = this.statementOf(bundle);
    if (suffix === '.sha256')
      return send(200, { 'content-type': 'text/plain; charset=utf-8', link: companions }, statement);
    if (suffix === '.sig') return send(200, { 'content-type': 'application/octet-stream' }, signature);
    this.serveBundle(request, response, record, bundle, companions);
  }

  private serveBundle(
    request: IncomingMessage,
    response: ServerResponse,
    record: RecordedRequest,
    bundle: FakeBundle,
    link: string,
  ): void {
    const etag = `"${bundle.sha256Hex}"`;
    const size = bundle.bytes.length;
    const headers: Record<string, string | number> = {
      etag,
      'accept-ranges': 'bytes',
      'cache-control': 'private, no-cache',
      'content-type': 'application/java-archive',
      'content-disposition': `attachment; filename="${bundle.fileName}"`,
      'repr-digest': `sha-256=:${Buffer.from(bundle.sha256Hex, 'hex').toString('base64')}:`,
      'x-agentpack-bundle-id': bundle.sha256Hex,
      link,
    };
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
      response.writeHead(304, {
        etag,
        'cache-control': 'private, no-cache',
        'x-agentpack-bundle-id': bundle.sha256Hex,
        link,
      });
      response.end();
      return;
    }
    const ifRange = request.headers['if-range'];
    const rangeHeader =
      this.faults.ignoreRange || (ifRange !== undefined && ifRange !== etag)
        ? undefined
        : request.headers.range;
    const range = parseRange(rangeHeader, size);
    if (range.kind === 'unsatisfiable') {
      response.writeHead(416, { 'content-range': `bytes */${size}`, 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'RANGE_NOT_SATISFIABLE', message: `bundle is ${size} bytes` }));
      return;
    }
    const { start, end } = range.kind === 'range' ? range.range : { start: 0, end: size - 1 };
    if (range.kind === 'range') headers['content-range'] = `bytes ${start}-${end}/${size}`;
    headers['content-length'] = end - start + 1;
    response.writeHead(range.kind === 'range' ? 206 : 200, headers);
    if (record.method === 'HEAD') {
      response.end();
      return;
    }
    let body = bundle.bytes.subarray(start, end + 1);
    if (this.faults.tamper) {
      body = Buffer.from(body);
      const middle = Math.floor(size / 2) - start;
      if (middle >= 0 && middle < body.length) body[middle] = (body[middle] as number) ^ 0x01;
    }
    this.stream(response, record, body);
  }

  /** Writes the body in chunks, honouring backpressure and the cut and stall faults. */
  private stream(response: ServerResponse, record: RecordedRequest, body: Buffer): void {
    const limit = Math.min(
      body.length,
      this.faults.cutAfter ?? body.length,
      this.faults.stallAfter ?? body.length,
    );
    let offset = 0;
    const next = (): void => {
      while (offset < limit) {
        const chunk = body.subarray(offset, Math.min(offset + CHUNK, limit));
        offset += chunk.length;
        record.bodyBytes += chunk.length;
        this.onBundleBytes?.(record.bodyBytes);
        if (!response.write(chunk)) {
          response.once('drain', next);
          return;
        }
      }
      if (limit === body.length) response.end();
      else if (this.faults.cutAfter !== undefined && limit === this.faults.cutAfter)
        response.write(Buffer.alloc(0), () => response.socket?.destroy());
      // A stall: the connection stays open, silent, until the client gives up or the server closes.
    };
    next();
  }

  private authorized(request: IncomingMessage): boolean {
    const header = request.headers.authorization?.replace(/^Basic\s+/i, '') ?? '';
    const pair = Buffer.from(header, 'base64').toString('utf8');
    return (
      pair === `${this.user.email}:${this.user.serviceKey}` && request.headers['api-key'] === this.user.apiKey
    );
  }

  private find(orgId: string, kind: string, version: string): FakeBundle | undefined {
    const list = this.bundles.get(`${orgId}/${kind}`) ?? [];
    return version === 'latest' ? list.at(-1) : list.find((b) => b.version === version);
  }
}

/** Absolute-path links to a bundle's statement and signature by identity, as the service names them. */
function identityLinks(bundle: FakeBundle): string {
  const stem = `/api/v1/orgs/${bundle.orgId}/bundles/${bundle.sha256Hex}/bundle`;
  return `<${stem}.sha256>; rel="agentpack-statement", <${stem}.sig>; rel="agentpack-signature"`;
}

function base62(length: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(length)].map((b) => alphabet[b % 62]).join('');
}
