import type { Services } from '../../../services.js';
import { scimResourceRoutes } from './resource-routes.js';
import { ScimGroup } from './scim-shapes.js';

/** /scim/v2/Groups (RFC 7644 §3), mapped onto mnemo groups and memberships. */
export function scimGroupRoutes(services: Services) {
  return scimResourceRoutes({
    endpoint: 'Groups',
    resource: ScimGroup,
    listTitle: 'ScimGroupList',
    requestTitle: 'ScimGroupRequest',
    service: services.scimGroups,
    deleteErrors: ['conflict', 'precondition_failed'],
    summaries: {
      list: 'List groups, with filter, startIndex, count, attributes and excludedAttributes (e.g. members).',
      create: 'Create a group with its members (409 uniqueness when a group of that name exists).',
      get: 'Read one group with its members.',
      replace: 'Replace a group: displayName, externalId, members (If-Match honoured).',
      patch: 'Rename a group or add, remove and replace members with PatchOp operations.',
      delete: 'Delete a group: its memberships end at once; engrams in its scope stay.',
    },
  });
}
