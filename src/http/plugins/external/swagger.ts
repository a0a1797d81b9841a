import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** OpenAPI 3 generated from the route schemas; registered before any route so all are seen. */
export default fp(
  async (app: FastifyInstance, options: { publicUrl: string; version: string }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'agentpack',
          version: options.version,
          description:
            'Ready-to-run, per-organization monitoring agents: keys, rotation, signed bundles and links.',
        },
        servers: [{ url: options.publicUrl }],
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: 'agentpack_session' },
            personal: {
              type: 'http',
              scheme: 'basic',
              description: 'base64(<e-mail>:<personal service key>), with the API-Key header',
            },
            apiKey: { type: 'apiKey', in: 'header', name: 'API-Key' },
          },
        },
      },
    });
  },
  { name: 'openapi', fastify: '5.x' },
);
