import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { signLink } from '../../bundles/links.js';
import type { Bundle } from '../../bundles/service.js';
import { BadRequestError } from '../../common/errors.js';
import { KIND_PATTERN, SETTING_NAME_PATTERN, VERSION_OR_LATEST_PATTERN } from '../../common/validate.js';
import {
  identityLinksFromAgentRoute,
  replySignature,
  replyWithBundle,
  replyWithConfig,
  replyWithStatement,
  replyWithZip,
} from '../bundle-reply.js';
import { requestLimit } from '../plugins/external/rate-limit.js';
import { AUTHENTICATED_ERRORS, errorResponses } from '../schemas/common.js';

export const KindParam = Type.String({
  pattern: KIND_PATTERN,
  description: 'agent kind, e.g. java',
});
export const VersionParam = Type.String({
  pattern: VERSION_OR_LATEST_PATTERN,
  description: 'a version from the catalog, or latest',
});
const BundleParams = Type.Object({
  orgId: Type.String({ maxLength: 100 }),
  kind: KindParam,
  version: VersionParam,
});
const BundleIdParams = Type.Object({
  orgId: Type.String({ maxLength: 100 }),
  bundleId: Type.String({
    pattern: '^[0-9a-f]{64}$',
    description:
      'the bundle identity, as a bundle response names it (X-Agentpack-Bundle-Id, and the Link header)',
  }),
});
const Format = Type.Enum(['embedded', 'zip'], {
  description:
    'embedded: the agent with its config inside (default); zip: the untouched agent, its config beside it and signed SHA256SUMS',
});
const Settings = Type.Record(
  Type.String({ pattern: SETTING_NAME_PATTERN }),
  Type.String({ maxLength: 4096 }),
  {
    description:
      'optional render settings: proxy.host, proxy.port, proxy.user, proxy.password, and free-form extra settings',
    maxProperties: 64,
  },
);
const Binary = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' });

/**
 * Bundle downloads for people and CI: the bundle (Range, ETag, If-None-Match), its statement
 * and signature, the config alone, the zip format, and signed links that need no headers.
 */
const bundles: FastifyPluginAsyncTypebox = async (app) => {
  const base = '/api/v1/orgs/:orgId/agents/:kind/:version';

  async function resolve(
    request: { params: { orgId: string; kind: string; version: string } },
    settings?: Record<string, string>,
  ) {
    const layer = app.services.bundles;
    return layer.service.current({ ...request.params, ...(settings === undefined ? {} : { settings }) });
  }

  async function audited(
    request: Parameters<typeof app.requireOrgAccess>[0],
    bundle: Bundle,
    format: string,
    actor: string,
  ) {
    app.services.metrics.downloads.inc({ format });
    await app.services.credentials.audit({
      orgId: bundle.row.orgId,
      actor,
      action: 'bundle.downloaded',
      detail: {
        kind: bundle.row.kind,
        version: bundle.row.version,
        format,
        bundle: bundle.row.id.slice(0, 16),
        ip: request.ip,
      },
    });
  }

  app.route({
    method: ['GET', 'HEAD'],
    url: `${base}/bundle`,
    config: { rateLimit: requestLimit(app.services, 'downloads') },
    schema: {
      tags: ['bundles'],
      summary: 'Download the agent with its config embedded (or the zip format), signed',
      description:
        'ETag is the SHA-256; supports a single Range (206/416), If-Range and If-None-Match (304). X-Agentpack-Bundle-Id names the identity of the bytes served, and the Link header (rel="agentpack-statement", rel="agentpack-signature") points at their statement and signature by that identity: /api/v1/orgs/{orgId}/bundles/{bundleId}/bundle.sha256 and .sig, which keep naming these bytes while keys rotate.',
      params: BundleParams,
      querystring: Type.Object({ format: Type.Optional(Format) }),
      response: {
        200: Binary,
        206: Binary,
        304: Type.Null({ description: 'Not modified' }),
        ...errorResponses(...AUTHENTICATED_ERRORS, 410, 416),
      },
    },
    handler: async (request, reply) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'member');
      const bundle = await resolve(request);
      if (request.query.format === 'zip') {
        await replyWithZip(app.services.bundles.service, request, reply, bundle);
        if (request.method === 'GET') await audited(request, bundle, 'zip', access.actor);
        return reply;
      }
      const { carriesConfig } = await replyWithBundle(
        app.services.bundles.service,
        request,
        reply,
        bundle,
        identityLinksFromAgentRoute(bundle.row.id),
      );
      if (carriesConfig) await audited(request, bundle, 'embedded', access.actor);
      return reply;
    },
  });

  app.get(
    `${base}/bundle.sha256`,
    {
      schema: {
        tags: ['bundles'],
        summary:
          'The signed statement of the current bundle: a sha256sum -c line, then # lines binding org, kind, version, time, key id',
        description:
          'Names the current bundle, which a rotation changes: to verify bytes already downloaded, fetch the statement their response names (Link, X-Agentpack-Bundle-Id). This answer carries the same headers, so its signature can be fetched by identity.',
        params: BundleParams,
        response: { 200: Type.String(), ...errorResponses(...AUTHENTICATED_ERRORS, 410) },
      },
    },
    async (request, reply) => {
      await app.requireOrgAccess(request, request.params.orgId, 'member');
      const bundle = await resolve(request);
      return replyWithStatement(reply, bundle, identityLinksFromAgentRoute(bundle.row.id));
    },
  );

  app.get(
    `${base}/bundle.sig`,
    {
      schema: {
        tags: ['bundles'],
        summary: 'The raw 64-byte Ed25519 signature over bundle.sha256 (of the current bundle)',
        params: BundleParams,
        response: { 200: Binary, ...errorResponses(...AUTHENTICATED_ERRORS, 410) },
      },
    },
    async (request, reply) => {
      await app.requireOrgAccess(request, request.params.orgId, 'member');
      return replySignature(reply, await resolve(request));
    },
  );

  /** A bundle by identity, within the organization the path names (another's answers 404, as missing). */
  function byIdentity(request: { params: { orgId: string; bundleId: string } }): Promise<Bundle> {
    return app.services.bundles.service.byId(request.params.bundleId, { orgId: request.params.orgId });
  }

  app.get(
    '/api/v1/orgs/:orgId/bundles/:bundleId/bundle.sha256',
    {
      schema: {
        tags: ['bundles'],
        summary: 'The signed statement of one bundle identity (as a bundle response names it)',
        description:
          'Stays the same while keys rotate, for as long as the bundle is served: 410 once the keys it embeds expired, 404 once its record is collected.',
        params: BundleIdParams,
        response: { 200: Type.String(), ...errorResponses(...AUTHENTICATED_ERRORS, 410) },
      },
    },
    async (request, reply) => {
      await app.requireOrgAccess(request, request.params.orgId, 'member');
      const bundle = await byIdentity(request);
      return replyWithStatement(reply, bundle, { statement: 'bundle.sha256', signature: 'bundle.sig' });
    },
  );

  app.get(
    '/api/v1/orgs/:orgId/bundles/:bundleId/bundle.sig',
    {
      schema: {
        tags: ['bundles'],
        summary: 'The raw 64-byte Ed25519 signature over the statement of one bundle identity',
        params: BundleIdParams,
        response: { 200: Binary, ...errorResponses(...AUTHENTICATED_ERRORS, 410) },
      },
    },
    async (request, reply) => {
      await app.requireOrgAccess(request, request.params.orgId, 'member');
      return replySignature(reply, await byIdentity(request));
    },
  );

  app.get(
    `${base}/config`,
    {
      config: { rateLimit: requestLimit(app.services, 'downloads') },
      schema: {
        tags: ['bundles'],
        summary: 'The rendered config file alone (holds secrets; Cache-Control: no-store)',
        params: BundleParams,
        response: { 200: Binary, ...errorResponses(...AUTHENTICATED_ERRORS, 410) },
      },
    },
    async (request, reply) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'member');
      const bundle = await resolve(request);
      const config = await replyWithConfig(app.services.bundles.service, reply, bundle);
      await audited(request, bundle, 'config', access.actor);
      return config;
    },
  );

  app.post(
    `${base}/links`,
    {
      config: { rateLimit: requestLimit(app.services, 'links') },
      schema: {
        tags: ['bundles'],
        summary: 'Create a signed download link (no headers needed to use it); at most 7 days',
        params: BundleParams,
        body: Type.Object({
          ttlSeconds: Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 }),
          format: Type.Optional(Type.Enum(['embedded', 'zip', 'config'])),
          settings: Type.Optional(Settings),
        }),
        response: {
          201: Type.Object({
            url: Type.String(),
            expiresAt: Type.String({ description: 'ISO-8601 UTC' }),
            sha256: Type.String({ description: 'SHA-256 of the bundle the link serves' }),
            bundleId: Type.String({ description: 'the identity of that bundle' }),
            statementUrl: Type.Optional(
              Type.String({
                description:
                  'format embedded: the signed statement of exactly the bytes the link serves (url + /bundle.sha256), valid as long as the link',
              }),
            ),
            signatureUrl: Type.Optional(
              Type.String({ description: 'format embedded: the signature over that statement' }),
            ),
          }),
          ...errorResponses(...AUTHENTICATED_ERRORS, 410),
        },
      },
    },
    async (request, reply) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'member');
      const { ttlSeconds, settings } = request.body;
      if (ttlSeconds > app.services.config.linkMaxTtlSeconds) {
        throw new BadRequestError(
          'BAD_REQUEST',
          `ttlSeconds must be at most ${app.services.config.linkMaxTtlSeconds}`,
        );
      }
      const format = request.body.format ?? 'embedded';
      const bundle = await resolve(request, settings);
      const expiresAt = Math.floor(app.services.now() / 1000) + ttlSeconds;
      const token = signLink(
        { orgId: bundle.row.orgId, bundleId: bundle.row.id, format, expiresAt },
        app.services.linkKey,
      );
      await app.services.credentials.audit({
        orgId: bundle.row.orgId,
        actor: access.actor,
        action: 'link.created',
        detail: {
          kind: bundle.row.kind,
          version: bundle.row.version,
          format,
          bundle: bundle.row.id.slice(0, 16),
          expiresAt: new Date(expiresAt * 1000).toISOString(),
        },
      });
      reply.code(201);
      const url = `${app.services.config.publicUrl}/dl/${token}`;
      return {
        url,
        expiresAt: new Date(expiresAt * 1000).toISOString(),
        sha256: bundle.row.sha256,
        bundleId: bundle.row.id,
        ...(format === 'embedded'
          ? { statementUrl: `${url}/bundle.sha256`, signatureUrl: `${url}/bundle.sig` }
          : {}),
      };
    },
  );
};

export default bundles;
