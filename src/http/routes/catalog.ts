import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { uploadTooLarge } from '../../bundles/uploads.js';
import { PayloadTooLargeError } from '../../common/errors.js';
import { VERSION_PATTERN } from '../../common/validate.js';
import { CONFIG_FORMATS } from '../../render/manifest.js';
import { AUTHENTICATED_ERRORS, errorResponses } from '../schemas/common.js';
import { KindParam } from './bundles.js';

const VersionName = Type.String({
  pattern: VERSION_PATTERN,
  description: 'version name (not latest)',
});
const CatalogVersion = Type.Object({
  version: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  entryCount: Type.Integer(),
  uploadedAt: Type.String(),
  withdrawn: Type.Boolean(),
});
const CatalogKind = Type.Object({
  kind: Type.String(),
  description: Type.String(),
  archive: Type.Enum(['jar', 'zip']),
  configPath: Type.String(),
  format: Type.Enum(CONFIG_FORMATS),
  latest: Type.Union([Type.String(), Type.Null()]),
  versions: Type.Array(CatalogVersion),
});

/** The catalog of base agents: list (any signed-in caller), upload and withdraw (system admins). */
const catalog: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/v1/agents',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Agent kinds and their versions; latest is the highest version not withdrawn',
        querystring: Type.Object({
          withdrawn: Type.Optional(
            Type.Boolean({ description: 'include withdrawn versions (system admins)' }),
          ),
        }),
        response: { 200: Type.Object({ kinds: Type.Array(CatalogKind) }), ...errorResponses(401, 403, 429) },
      },
    },
    async (request) => {
      app.requirePrincipal(request);
      if (request.query.withdrawn === true) app.requireSystemAdmin(request);
      return {
        kinds: await app.services.bundles.catalog.list({
          includeWithdrawn: request.query.withdrawn === true,
        }),
      };
    },
  );

  await app.register(upload);

  app.patch(
    '/api/v1/agents/:kind/versions/:version',
    {
      schema: {
        tags: ['catalog'],
        summary:
          'Withdraw a version (it is no longer served, nor chosen as latest) or restore it (system admin)',
        params: Type.Object({ kind: KindParam, version: VersionName }),
        body: Type.Object({ withdrawn: Type.Boolean() }),
        response: { 200: CatalogVersion, ...errorResponses(...AUTHENTICATED_ERRORS) },
      },
    },
    async (request) => {
      const principal = app.requireSystemAdmin(request);
      const row = await app.services.bundles.catalog.setWithdrawn(
        request.params.kind,
        request.params.version,
        request.body.withdrawn,
      );
      await app.services.credentials.audit({
        orgId: null,
        actor: `user:${principal.user.email}`,
        action: request.body.withdrawn ? 'agent.withdrawn' : 'agent.restored',
        detail: { kind: row.kind, version: row.version },
      });
      return {
        version: row.version,
        sha256: row.sha256,
        size: row.size,
        entryCount: row.entryCount,
        uploadedAt: new Date(row.uploadedAt).toISOString(),
        withdrawn: row.withdrawnAt !== null,
      };
    },
  );
};

/**
 * The upload route, in a context of its own: every request body, whatever its Content-Type (or
 * none), reaches the handler as the raw byte stream. The catalog validates the archive anyway,
 * and a curl user who forgot `-H 'Content-Type: application/octet-stream'` (curl sends
 * `application/x-www-form-urlencoded` with --data-binary) gets the same answer. A body parsed
 * as text or JSON first would be held in memory and could not be streamed to the spool.
 */
const upload: FastifyPluginAsyncTypebox = async (app) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.post(
    '/api/v1/agents/:kind/versions/:version',
    {
      bodyLimit: Number.MAX_SAFE_INTEGER,
      schema: {
        tags: ['catalog'],
        summary: 'Upload a base agent archive (system admin); validated while it streams in',
        description:
          'Body: the raw archive, whatever its Content-Type (application/octet-stream, application/java-archive, or none at all; a text or JSON type is read as bytes too: the archive is checked anyway). A hostile or broken archive answers 422 with the reason and stores nothing. 503 when the database or blob store is unavailable, 507 when there is no space left.',
        params: Type.Object({ kind: KindParam, version: VersionName }),
        response: {
          201: CatalogVersion,
          ...errorResponses(...AUTHENTICATED_ERRORS, 409, 413, 422, 503, 507),
        },
      },
    },
    async (request, reply) => {
      const principal = app.requireSystemAdmin(request);
      const layer = app.services.bundles;
      const declared = Number(request.headers['content-length'] ?? Number.NaN);
      if (Number.isFinite(declared) && declared > app.services.config.limits.maxArchiveBytes) {
        // The body is not read: answer, then close the connection.
        reply.header('connection', 'close');
        throw uploadTooLarge(app.services.config.limits.maxArchiveBytes);
      }
      const row = await layer.catalog
        .add(
          request.params.kind,
          request.params.version,
          request.body as Readable,
          `user:${principal.user.email}`,
        )
        .catch((error: unknown) => {
          if (error instanceof PayloadTooLargeError) reply.header('connection', 'close');
          throw error;
        });
      await app.services.credentials.audit({
        orgId: null,
        actor: `user:${principal.user.email}`,
        action: 'agent.uploaded',
        detail: { kind: row.kind, version: row.version, sha256: row.sha256, size: row.size },
      });
      reply.code(201);
      return {
        version: row.version,
        sha256: row.sha256,
        size: row.size,
        entryCount: row.entryCount,
        uploadedAt: new Date(row.uploadedAt).toISOString(),
        withdrawn: false,
      };
    },
  );
};

export default catalog;
