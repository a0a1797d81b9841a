import type { FastifyInstance } from 'fastify';
import type { BundleLayer } from '../../bundles/layer.js';
import { UnavailableError } from '../../common/errors.js';

/** The catalog and bundle service, or a 503 when this app was built without them. */
export function bundleLayer(app: FastifyInstance): BundleLayer {
  const layer = app.services.bundles as BundleLayer | undefined;
  if (layer === undefined || !('service' in layer))
    throw new UnavailableError('UNAVAILABLE', 'bundles are not served by this instance');
  return layer;
}
