import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  AUTHENTICATED_ERRORS,
  errorResponses,
  OrgIdParams,
  OrgRoleSchema,
  VisibleOrganizationSchema,
} from '../schemas/common.js';
import { visibleOrganizations } from '../visible-orgs.js';

const Member = Type.Object({
  userId: Type.String(),
  email: Type.String(),
  role: OrgRoleSchema,
  systemAdmin: Type.Boolean(),
});

/** Organizations the caller sees, one organization, and its members (admins). */
const orgs: FastifyPluginAsyncTypebox = async (app) => {
  const { services } = app;

  app.get(
    '/api/v1/orgs',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Organizations you can see, with your role in each',
        response: {
          200: Type.Object({ orgs: Type.Array(VisibleOrganizationSchema) }),
          ...errorResponses(401, 429),
        },
      },
    },
    async (request) => ({ orgs: await visibleOrganizations(services, app.requirePrincipal(request)) }),
  );

  app.get(
    '/api/v1/orgs/:orgId',
    {
      schema: {
        tags: ['organizations'],
        summary: 'One organization and your role in it',
        params: OrgIdParams,
        response: { 200: VisibleOrganizationSchema, ...errorResponses(...AUTHENTICATED_ERRORS) },
      },
    },
    async (request) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'member');
      const org = await services.credentials.getOrganization(access.orgId);
      if (org === null) throw new Error(`organization ${access.orgId} vanished`);
      return { ...org, role: access.role };
    },
  );

  app.get(
    '/api/v1/orgs/:orgId/members',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Members of the organization (admin)',
        params: OrgIdParams,
        response: {
          200: Type.Object({ members: Type.Array(Member) }),
          ...errorResponses(...AUTHENTICATED_ERRORS),
        },
      },
    },
    async (request) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'admin');
      return { members: await services.credentials.listMembers(access.orgId) };
    },
  );

  app.post(
    '/api/v1/orgs/:orgId/members',
    {
      schema: {
        tags: ['organizations'],
        summary: 'Add a member (admin); a new user gets a personal service key, shown once',
        params: OrgIdParams,
        body: Type.Object({
          email: Type.String({ minLength: 3, maxLength: 254 }),
          role: OrgRoleSchema,
          password: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 1024,
              description: 'only for a new user; omit for API-only users',
            }),
          ),
        }),
        response: {
          201: Type.Object({
            userId: Type.String(),
            email: Type.String(),
            orgId: Type.String(),
            role: OrgRoleSchema,
            created: Type.Boolean({ description: 'false when an existing user joined' }),
            serviceKey: Type.Union([Type.String(), Type.Null()], {
              description: 'only when the user was created',
            }),
            serviceKeyId: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(...AUTHENTICATED_ERRORS, 409),
        },
      },
    },
    async (request, reply) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'admin');
      const { email, role, password } = request.body;
      const added = await services.credentials.addUser(
        { email, orgId: access.orgId, role, ...(password === undefined ? {} : { password }) },
        access.actor,
      );
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(added);
    },
  );
};

export default orgs;
