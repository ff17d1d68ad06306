import type { Services } from '../../../services.js';
import type { AnyRoute } from '../../route.js';
import { adminApiKeyRoutes } from './admin-api-keys.js';
import { adminAuditRoutes } from './admin-audit.js';
import { adminGroupRoutes } from './admin-groups.js';
import { adminInsightsRoutes } from './admin-insights.js';
import { adminScimTokenRoutes } from './admin-scim-tokens.js';
import { adminScopeRoutes } from './admin-scopes.js';
import { adminUserRoutes } from './admin-users.js';
import { adminWebhookRoutes } from './admin-webhooks.js';
import { engramActionRoutes } from './engram-actions.js';
import { engramRoutes } from './engrams.js';
import { episodeRoutes } from './episodes.js';
import { injectRoutes } from './inject.js';
import { meApiKeyRoutes } from './me-api-keys.js';
import { meRoutes } from './me.js';
import { packRoutes } from './packs.js';
import { recallRoutes } from './recall.js';
import { sessionRoutes } from './sessions.js';

/** Every route of the engram API (/api/v1), one file per resource. */
export function engramApiRoutes(services: Services): AnyRoute[] {
  return [
    ...meRoutes(services),
    ...engramRoutes(services),
    ...engramActionRoutes(services),
    ...recallRoutes(services),
    ...injectRoutes(services),
    ...episodeRoutes(services),
    ...sessionRoutes(services),
    ...adminUserRoutes(services),
    ...adminGroupRoutes(services),
    ...adminApiKeyRoutes(services),
    ...adminScopeRoutes(services),
    ...meApiKeyRoutes(services),
    ...adminScimTokenRoutes(services),
    ...adminAuditRoutes(services),
    ...packRoutes(services),
    ...adminWebhookRoutes(services),
    ...adminInsightsRoutes(services),
  ];
}
