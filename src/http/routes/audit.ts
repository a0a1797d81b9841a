import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AUDIT_PAGE_MAX } from '../../credentials/audit.js';
import { AUTHENTICATED_ERRORS, errorResponses, OrgIdParams } from '../schemas/common.js';

const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Type.String({ description: 'ISO-8601 UTC' }),
  orgId: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String({ description: 'user:<e-mail>, agent:<slug>, ip:<address>, cli:<name> or system' }),
  action: Type.String({ description: 'key.viewed, key.rotated, bundle.downloaded, auth.failed, ...' }),
  keyId: Type.Union([Type.String(), Type.Null()], { description: 'a key id, never a key' }),
  detail: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
});

/** The organization's audit log, newest first, paged by id (admins). */
const audit: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/v1/orgs/:orgId/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit log, newest first; pass nextBefore as before for the next page (admin)',
        params: OrgIdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: AUDIT_PAGE_MAX, default: 50 })),
          before: Type.Optional(Type.Integer({ minimum: 1, description: 'an entry id (exclusive)' })),
        }),
        response: {
          200: Type.Object({
            entries: Type.Array(AuditEntry),
            nextBefore: Type.Union([Type.Integer(), Type.Null()], { description: 'null on the last page' }),
          }),
          ...errorResponses(...AUTHENTICATED_ERRORS),
        },
      },
    },
    async (request) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'admin');
      const { limit, before } = request.query;
      return app.services.credentials.listAudit(access.orgId, {
        ...(limit === undefined ? {} : { limit }),
        ...(before === undefined ? {} : { before }),
      });
    },
  );
};

export default audit;
