import type { Services } from '../../../services.js';
import type { AnyRoute } from '../../route.js';
import { scimDiscoveryRoutes } from './discovery.js';
import { scimGroupRoutes } from './groups.js';
import { scimUserRoutes } from './users.js';

/** Every route of /scim/v2 (SCIM 2.0, RFC 7643/7644), one file per resource. */
export function scimRoutes(services: Services): AnyRoute[] {
  return [...scimDiscoveryRoutes(), ...scimUserRoutes(services), ...scimGroupRoutes(services)];
}
