import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { checkLink, type LinkClaims } from '../../bundles/links.js';
import type { Bundle } from '../../bundles/service.js';
import { ForbiddenError, GoneError, NotFoundError } from '../../common/errors.js';
import {
  replySignature,
  replyWithBundle,
  replyWithConfig,
  replyWithStatement,
  replyWithZip,
} from '../bundle-reply.js';
import { requestLimit } from '../plugins/external/rate-limit.js';
import { errorResponses } from '../schemas/common.js';

const TokenParams = Type.Object({
  token: Type.String({ maxLength: 512, description: 'the signed link token' }),
});
const Binary = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' });
const LINK_ERRORS = [400, 403, 404, 410, 429] as const;

/**
 * `GET /dl/{token}`: a signed link needs no headers. The token binds organization, bundle
 * identity and format and expires; a tampered or expired token answers 403. Tokens never reach
 * the log (the request serializer redacts /dl/ paths). `/dl/{token}/bundle.sha256` and `.sig`
 * are the statement and signature of exactly the bundle the token names.
 */
const links: FastifyPluginAsyncTypebox = async (app) => {
  // Anonymous: counted per client address; every /dl route, so failing tokens are throttled too.
  const rateLimit = requestLimit(app.services, 'link-downloads');
  async function open(
    request: FastifyRequest,
    token: string,
  ): Promise<{ claims: LinkClaims; bundle: Bundle }> {
    const check = checkLink(token, app.services.linkKey, Math.floor(app.services.now() / 1000));
    if (!check.ok) {
      const message = check.reason === 'expired' ? 'this link has expired' : 'this link is not valid';
      throw await app.rejectAuth(request, 'link', new ForbiddenError(message));
    }
    const bundle = await app.services.bundles.service.byId(check.claims.bundleId).catch((error: unknown) => {
      // Links are only signed for recorded bundles, and records leave only once their keys
      // expired, their organization went or their settings set was collected (settings-cap.ts):
      // a valid token without its record is gone, not unknown, however long ago that was.
      if (error instanceof NotFoundError)
        throw new GoneError(
          'the bundle behind this link is gone (its keys expired, or its record was collected); create a new link',
        );
      throw error;
    });
    if (bundle.row.orgId !== check.claims.orgId) throw new ForbiddenError('this link is not valid');
    return { claims: check.claims, bundle };
  }

  app.route({
    method: ['GET', 'HEAD'],
    url: '/dl/:token',
    config: { rateLimit },
    schema: {
      tags: ['links'],
      summary:
        'Download through a signed link (no headers); Range, ETag and If-None-Match as on the bundle route',
      params: TokenParams,
      response: {
        200: Binary,
        206: Binary,
        304: Type.Null({ description: 'Not modified' }),
        ...errorResponses(...LINK_ERRORS, 416),
      },
    },
    handler: async (request, reply) => {
      const { claims, bundle } = await open(request, request.params.token);
      const service = app.services.bundles.service;
      if (claims.format === 'config') {
        const config = await replyWithConfig(service, reply, bundle);
        if (request.method === 'GET') await audit(request, bundle, 'config');
        return config;
      }
      if (claims.format === 'zip') {
        await replyWithZip(service, request, reply, bundle);
        if (request.method === 'GET') await audit(request, bundle, 'zip');
        return reply;
      }
      // Relative to /dl/{token}: the statement and signature of the identity the token names.
      const token = encodeURIComponent(request.params.token);
      const { carriesConfig } = await replyWithBundle(service, request, reply, bundle, {
        statement: `${token}/bundle.sha256`,
        signature: `${token}/bundle.sig`,
      });
      if (carriesConfig) await audit(request, bundle, 'embedded');
      return reply;
    },
  });

  app.get(
    '/dl/:token/bundle.sha256',
    {
      config: { rateLimit },
      schema: {
        tags: ['links'],
        summary: 'The signed statement of the bundle behind a link',
        params: TokenParams,
        response: { 200: Type.String(), ...errorResponses(...LINK_ERRORS) },
      },
    },
    async (request, reply) => {
      const { bundle } = await open(request, request.params.token);
      return replyWithStatement(reply, bundle, { statement: 'bundle.sha256', signature: 'bundle.sig' });
    },
  );

  app.get(
    '/dl/:token/bundle.sig',
    {
      config: { rateLimit },
      schema: {
        tags: ['links'],
        summary: 'The Ed25519 signature over the statement of the bundle behind a link',
        params: TokenParams,
        response: { 200: Binary, ...errorResponses(...LINK_ERRORS) },
      },
    },
    async (request, reply) => {
      const { bundle } = await open(request, request.params.token);
      return replySignature(reply, bundle);
    },
  );

  async function audit(request: FastifyRequest, bundle: Bundle, format: string): Promise<void> {
    app.services.metrics.downloads.inc({ format });
    await app.services.credentials.audit({
      orgId: bundle.row.orgId,
      actor: 'link',
      action: 'bundle.downloaded',
      detail: {
        kind: bundle.row.kind,
        version: bundle.row.version,
        format,
        via: 'link',
        bundle: bundle.row.id.slice(0, 16),
        ip: request.ip,
      },
    });
  }
};

export default links;
