import type { FastifyInstance } from 'fastify';
import type { BundleLayer } from '../../bundles/layer.js';
import { AgentpackError } from '../../common/errors.js';

/** The catalog and bundle service, or a 503 when this app was built without them. */
export function bundleLayer(app: FastifyInstance): BundleLayer {
  const layer = app.services.bundles as BundleLayer | undefined;
  if (layer === undefined || !('service' in layer))
    throw new AgentpackError('UNAVAILABLE', 'bundles are not served by this instance', 503);
  return layer;
}
