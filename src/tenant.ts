import { isWorkspaceId } from './workspace.js';

declare const TENANT: unique symbol;

/**
 * A Redis tenant: the content of the hash tag `{<tenant>}` that every key of one isolated key space
 * carries. The two faces are separate tenants by construction, decided here and nowhere else:
 *   layer API workspace W   -> tenant `W`       (keys `mnemo:{W}:…`)
 *   engram API organisation O -> tenant `org:O` (keys `mnemo:{org:O}:…`)
 * Workspace ids cannot contain `:` (nor `{`, `}` or `~`), so no layer workspace can spell an organisation's
 * tenant, nor a global tag of src/redis/keys.ts, and a workspace and an organisation of the same name never
 * share a key, a stream, a channel or an index. The tag is one `{…}` pair with non-empty content, so
 * Redis Cluster hashes it whole: each tenant still lives on one slot.
 *
 * The brand makes the compiler refuse a bare workspace or organisation id where a tenant is expected.
 */
export type Tenant = string & { readonly [TENANT]: true };

const ORG_PREFIX = 'org:';

/** The tenant of a layer-API workspace. */
export const layerTenant = (workspaceId: string): Tenant => workspaceId as Tenant;

/** The tenant of an engram-API organisation. */
export const orgTenant = (org: string): Tenant => `${ORG_PREFIX}${org}` as Tenant;

/** The face's own name of a tenant (the workspace or organisation id), as event envelopes carry it. */
export const tenantName = (tenant: Tenant): string =>
  tenant.startsWith(ORG_PREFIX) ? tenant.slice(ORG_PREFIX.length) : tenant;

/** A tenant read back from outside the type system (job data); undefined when it is not one. */
export function parseTenant(value: unknown): Tenant | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.startsWith(ORG_PREFIX) ? value.slice(ORG_PREFIX.length) : value;
  return isWorkspaceId(name) ? (value as Tenant) : undefined;
}

/** Both tenants a name can denote (admin operations that address a workspace id on both faces). */
export const tenantsNamed = (name: string): Tenant[] => [layerTenant(name), orgTenant(name)];
