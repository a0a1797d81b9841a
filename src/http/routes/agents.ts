import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AGENT_AUTH_MESSAGE, unauthenticated } from '../principal.js';
import { errorResponses } from '../schemas/common.js';

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
};

export default agents;
