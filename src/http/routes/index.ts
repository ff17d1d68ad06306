import type { Services } from '../../services.js';
import type { AnyRoute } from '../route.js';
import { asyncApiRoutes } from './asyncapi.js';
import { oidcRoutes } from './auth/oidc.js';
import { engramApiRoutes } from './engram/index.js';
import { adminKeyRoutes } from './layer/admin-keys.js';
import { adminMetricsRoutes } from './layer/admin-metrics.js';
import { adminReembedRoutes } from './layer/admin-reembed.js';
import { healthRoutes } from './layer/health.js';
import { layerMeRoutes } from './layer/me.js';
import { memoryRoutes } from './layer/memory.js';
import { recallRoutes } from './layer/recall.js';
import { rememberRoutes } from './layer/remember.js';
import { statsRoutes } from './layer/stats.js';
import { layerWebhookRoutes } from './layer/webhooks.js';
import { openApiRoutes } from './openapi.js';
import { scimRoutes } from './scim/index.js';
import { metricsRoutes } from './ops/metrics.js';
import { probeRoutes } from './ops/probes.js';

/** The route table of both faces. Each resource's routes live in their own file. */
export function buildRoutes(services: Services, extra: AnyRoute[] = []): AnyRoute[] {
  const routes: AnyRoute[] = [
    ...healthRoutes(services),
    ...adminKeyRoutes(services),
    ...adminMetricsRoutes(services),
    ...adminReembedRoutes(services),
    ...layerMeRoutes(),
    ...rememberRoutes(services),
    ...recallRoutes(services),
    ...statsRoutes(services),
    ...memoryRoutes(services),
    ...layerWebhookRoutes(services),
    ...engramApiRoutes(services),
    ...asyncApiRoutes(services),
    ...scimRoutes(services),
    ...probeRoutes(services),
    ...metricsRoutes(services),
    ...oidcRoutes(services),
    ...extra,
  ];
  routes.push(
    ...openApiRoutes(() => routes),
    ...openApiRoutes(() => routes, {
      basePath: '/api/v1',
      face: 'engram',
      covers: 'the engram API (/api/v1)',
      filter: (route) => route.path.startsWith('/api/v1/'),
    }),
  );
  return routes;
}
