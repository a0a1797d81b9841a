import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MAX_GRACE_SECONDS } from '../../credentials/duration.js';
import { sampleRequest } from '../sample-request.js';
import { AUTHENTICATED_ERRORS, errorResponses, KeyWhichSchema, OrgIdParams } from '../schemas/common.js';

const KeyPairOf = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(item: T) =>
  Type.Object({ apiKey: item, agentServiceKey: item });

const PendingExpiry = Type.Object({
  which: KeyWhichSchema,
  version: Type.Integer(),
  keyId: Type.String(),
  expiresAt: Type.String({ description: 'ISO-8601 UTC; the version stops working then' }),
});

const OrgKeys = Type.Object({
  orgId: Type.String(),
  slug: Type.String(),
  apiKey: Type.String({ description: 'current organization API key' }),
  agent: Type.Object({ userName: Type.String(), serviceKey: Type.String() }),
  versions: KeyPairOf(Type.Integer()),
  keyIds: KeyPairOf(Type.String()),
  expiries: Type.Array(PendingExpiry, { description: 'previous versions still in their grace period' }),
});

const Rotation = Type.Object({
  orgId: Type.String(),
  which: KeyWhichSchema,
  version: Type.Integer({ description: 'the new current version' }),
  keyId: Type.String(),
  previous: Type.Object({ version: Type.Integer(), keyId: Type.String(), expiresAt: Type.String() }),
  ended: Type.Array(Type.Object({ version: Type.Integer(), keyId: Type.String() }), {
    description: 'versions whose grace period this rotation cut short',
  }),
});

const EndedGrace = Type.Object({
  orgId: Type.String(),
  which: KeyWhichSchema,
  ended: Type.Array(Type.Object({ version: Type.Integer(), keyId: Type.String() })),
});

const WhichParams = Type.Object({ ...OrgIdParams.properties, which: KeyWhichSchema });

/** The organization's keys: view (members), rotate and end a grace period (admins), sample request. */
const keys: FastifyPluginAsyncTypebox = async (app) => {
  const { credentials } = app.services;

  app.get(
    '/api/v1/orgs/:orgId/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'Current keys, versions and pending expiries (audited as key.viewed)',
        params: OrgIdParams,
        response: { 200: OrgKeys, ...errorResponses(...AUTHENTICATED_ERRORS) },
      },
    },
    async (request, reply) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'member');
      reply.header('cache-control', 'no-store');
      return credentials.getKeys(access.orgId, { viewedBy: access.actor });
    },
  );

  app.post(
    '/api/v1/orgs/:orgId/keys/:which/rotate',
    {
      schema: {
        tags: ['keys'],
        summary: 'Rotate a key (admin); the previous version stays valid for graceSeconds',
        params: WhichParams,
        body: Type.Object({
          graceSeconds: Type.Integer({
            minimum: 0,
            maximum: MAX_GRACE_SECONDS,
            description: '0 ends the previous version at once; e.g. 3600, 86400, 604800',
          }),
        }),
        response: { 200: Rotation, ...errorResponses(...AUTHENTICATED_ERRORS) },
      },
    },
    async (request) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'admin');
      const { key: _secret, ...result } = await credentials.rotateKey(
        access.orgId,
        request.params.which,
        request.body.graceSeconds,
        access.actor,
      );
      // Regenerate this organization's bundles in the background: the next download is instant.
      app.services.bundles.refresh(access.orgId, (error) =>
        request.log.warn({ err: error }, 'bundle refresh failed'),
      );
      return result;
    },
  );

  app.post(
    '/api/v1/orgs/:orgId/keys/:which/end-grace',
    {
      schema: {
        tags: ['keys'],
        summary: 'End the grace period of previous versions now (admin)',
        params: WhichParams,
        response: { 200: EndedGrace, ...errorResponses(...AUTHENTICATED_ERRORS, 409) },
      },
    },
    async (request) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'admin');
      const ended = await credentials.endGrace(access.orgId, request.params.which, access.actor);
      app.services.bundles.refresh(access.orgId, (error) =>
        request.log.warn({ err: error }, 'bundle refresh failed'),
      );
      return ended;
    },
  );

  app.get(
    '/api/v1/orgs/:orgId/keys/sample-request',
    {
      schema: {
        tags: ['keys'],
        summary: 'A runnable curl command using your own credentials',
        params: OrgIdParams,
        response: {
          200: Type.Object({
            command: Type.String(),
            method: Type.Literal('GET'),
            url: Type.String(),
            runnable: Type.Boolean({ description: 'false when a placeholder stands for your key' }),
            note: Type.String(),
          }),
          ...errorResponses(...AUTHENTICATED_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const access = await app.requireOrgAccess(request, request.params.orgId, 'member');
      const header = (name: string): string | undefined => {
        const value = request.headers[name];
        return typeof value === 'string' ? value : undefined;
      };
      reply.header('cache-control', 'no-store');
      return sampleRequest(app.services, access.principal, access.orgId, {
        authorization: header('authorization'),
        apiKey: header('api-key'),
      });
    },
  );
};

export default keys;
