import type { WebhookOwner } from '../memory/webhooks/webhook-model.js';
import { orgTenant } from '../tenant.js';
import type { GroupService } from './groups.js';
import type { EngramPrincipal } from './principal.js';
import { OrgScopeAccess } from './scope-access.js';
import type { UserService } from './users.js';

/**
 * The reading rights of an engram webhook's owner, as the dispatcher applies them to every event (the same
 * check an event socket of that owner makes: engramEventPermitted). A user owner must still be an active
 * organisation admin; otherwise the webhook receives nothing. A webhook is an integration of the
 * organisation, so even a user owner's personal scope stays closed to it.
 */
export async function webhookOwnerPrincipal(
  users: UserService,
  groups: GroupService,
  org: string,
  owner: WebhookOwner,
): Promise<EngramPrincipal | undefined> {
  const tenant = orgTenant(org);
  if (owner.type === 'admin') {
    const groupPaths = await groups.groupPaths(tenant);
    return principal(org, null, 'admin', new OrgScopeAccess(org, null, 'admin', [], groupPaths));
  }
  const [user, memberships, groupPaths] = await Promise.all([
    users.getUser(tenant, owner.id),
    groups.membershipsOf(tenant, owner.id),
    groups.groupPaths(tenant),
  ]);
  if (!user || !user.active || user.role !== 'admin') return undefined;
  return principal(
    org,
    user.id,
    user.username,
    new OrgScopeAccess(org, null, 'admin', memberships, groupPaths),
  );
}

function principal(
  org: string,
  userId: string | null,
  username: string,
  access: OrgScopeAccess,
): EngramPrincipal {
  return {
    kind: 'engram',
    org,
    tenant: orgTenant(org),
    userId,
    username,
    role: 'admin',
    isOrgAdmin: true,
    keyId: null,
    expiresAt: null,
    // The owner's reading rights stand in for the webhook; no credential of theirs is involved.
    credential: userId === null ? 'admin_key' : 'api_key',
    sessionId: null,
    credentialId: `webhook-owner:${org}:${userId ?? 'admin'}`,
    actor: userId === null ? { type: 'admin', id: 'admin-key' } : { type: 'user', id: userId },
    access,
    invalidationTags: [],
  };
}
