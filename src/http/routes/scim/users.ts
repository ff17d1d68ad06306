import type { Services } from '../../../services.js';
import { scimResourceRoutes } from './resource-routes.js';
import { ScimUser } from './scim-shapes.js';

/** /scim/v2/Users (RFC 7644 §3), over mnemo's users. */
export function scimUserRoutes(services: Services) {
  return scimResourceRoutes({
    endpoint: 'Users',
    resource: ScimUser,
    listTitle: 'ScimUserList',
    requestTitle: 'ScimUserRequest',
    service: services.scimUsers,
    deleteErrors: ['precondition_failed'],
    summaries: {
      list: 'List users, with filter, startIndex, count, attributes and excludedAttributes.',
      create: 'Provision a user (409 uniqueness when the userName is taken).',
      get: 'Read one user.',
      replace: 'Replace a user (If-Match honoured; active: false deactivates).',
      patch: 'Change a user with PatchOp operations (as Okta and Entra ID send them).',
      delete: 'Deprovision a user: deactivated at once (keys stop, engrams stay), then 404 on SCIM.',
    },
  });
}
