import { Type } from '@sinclair/typebox';
import { resourceTypes, schemas, serviceProviderConfig } from '../../../scim/discovery.js';
import { SCHEMAS } from '../../../scim/schema-names.js';
import { scimFail } from '../../../scim/scim-errors.js';
import { defineRoute } from '../../route.js';
import { Document, scimCall } from './scim-shapes.js';

/** /scim/v2 discovery (RFC 7644 §4): what the IdP reads before provisioning. SCIM tokens only, like the rest. */
const listOf = (resources: Record<string, unknown>[]) => ({
  schemas: [SCHEMAS.listResponse],
  totalResults: resources.length,
  startIndex: 1,
  itemsPerPage: resources.length,
  Resources: resources,
});

const Name = Type.Object({ name: Type.String({ maxLength: 200 }) });

export function scimDiscoveryRoutes() {
  const tags = ['scim'];
  return [
    defineRoute({
      method: 'GET',
      path: '/scim/v2/ServiceProviderConfig',
      face: 'scim',
      auth: 'scim',
      summary: 'What this SCIM service provider supports.',
      tags,
      schema: { response: { 200: Document('ScimServiceProviderConfig') } },
      handler: async (input) => serviceProviderConfig(scimCall(input).base),
    }),
    defineRoute({
      method: 'GET',
      path: '/scim/v2/ResourceTypes',
      face: 'scim',
      auth: 'scim',
      summary: 'The resource types: User and Group.',
      tags,
      schema: { response: { 200: Document('ScimResourceTypeList') } },
      handler: async (input) => listOf(resourceTypes(scimCall(input).base)),
    }),
    defineRoute({
      method: 'GET',
      path: '/scim/v2/ResourceTypes/:name',
      face: 'scim',
      auth: 'scim',
      summary: 'One resource type.',
      tags,
      schema: { params: Name, response: { 200: Document('ScimResourceType') } },
      handler: async (input) => {
        const found = resourceTypes(scimCall(input).base).find((r) => r.id === input.params.name);
        if (!found) throw scimFail.notFound(`No resource type ${input.params.name}`);
        return found;
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/scim/v2/Schemas',
      face: 'scim',
      auth: 'scim',
      summary: 'The schemas of User, Group and the enterprise user extension.',
      tags,
      schema: { response: { 200: Document('ScimSchemaList') } },
      handler: async (input) => listOf(schemas(scimCall(input).base)),
    }),
    defineRoute({
      method: 'GET',
      path: '/scim/v2/Schemas/:name',
      face: 'scim',
      auth: 'scim',
      summary: 'One schema, by its URI.',
      tags,
      schema: { params: Name, response: { 200: Document('ScimSchema') } },
      handler: async (input) => {
        const found = schemas(scimCall(input).base).find((s) => s.id === input.params.name);
        if (!found) throw scimFail.notFound(`No schema ${input.params.name}`);
        return found;
      },
    }),
  ];
}
