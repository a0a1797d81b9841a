import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The API documentation at /docs (Swagger UI, its assets served from the package: no CDN) and
 * the OpenAPI document at /docs/json and /docs/yaml.
 */
export default async function docs(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: false },
    staticCSP: false,
  });
}
