import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AGENT_AUTH_MESSAGE, unauthenticated } from '../principal.js';
import { errorResponses } from '../schemas/common.js';

/** Every method a gateway may forward: nginx auth_request sends GET, Envoy ext_authz the original one. */
const GATEWAY_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** What agents call: both layers (agent credentials + organization API key) or 401. */
const agents: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/agents/v1/handshake',
    {
      schema: {
        tags: ['agents'],
        summary: 'Agent handshake: Authorization base64(agent user:agent service key) and API-Key',
        response: {
          200: Type.Object({ orgId: Type.String() }),
          ...errorResponses(401, 429),
        },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal?.type !== 'agent') throw unauthenticated(AGENT_AUTH_MESSAGE);
      return { orgId: principal.orgId };
    },
  );

  // The check a gateway in front of an ingest endpoint makes for every agent request (nginx
  // auth_request, Traefik ForwardAuth, Envoy ext_authz, which appends the original path).
  for (const url of ['/agents/v1/auth', '/agents/v1/auth/*']) {
    app.route({
      method: [...GATEWAY_METHODS],
      url,
      schema: {
        tags: ['agents'],
        summary:
          'Gateway check: 204 with X-Agentpack-Org-Id for valid agent credentials and API-Key, else 401',
        hide: url.endsWith('*'),
        response: { 204: Type.Null(), ...errorResponses(401, 429) },
      },
      handler: async (request, reply) => {
        const principal = request.principal;
        if (principal?.type !== 'agent') throw unauthenticated(AGENT_AUTH_MESSAGE);
        return reply.code(204).header('x-agentpack-org-id', principal.orgId).send(null);
      },
    });
  }
};

export default agents;
