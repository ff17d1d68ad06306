import type { AdminKeyVerifier } from '../auth/admin-key.js';
import { requireKindOf } from '../auth/credential-kind.js';
import type { LayerKeyService } from '../auth/layer-keys.js';
import type { EngramAuthenticator } from '../auth/engram-auth.js';
import type { Authenticated, EngramPrincipal, LayerKeyPrincipal } from '../auth/principal.js';
import type { Face } from '../http/route.js';
import type { Services } from '../services.js';
import { engramEventPermitted } from '../memory/engrams/event-access.js';
import type { EventView } from '../memory/event-view.js';
import type { Tenant } from '../tenant.js';

/**
 * What an event socket may see, decided once at upgrade from its credential. The workspace comes from the
 * credential, never from the client.
 */
export interface Grant {
  workspace: Tenant;
  /** Sockets are counted per credential against MNEMO_WS_MAX_SOCKETS_PER_CREDENTIAL (on each instance). */
  credentialId: string;
  /** Invalidation tags (see CredentialInvalidation): revoking any of them closes the socket with 4001. */
  /** When the credential stops being valid (ms since the epoch): the socket is closed with 4001 then. */
  expiresAt?: number | null;
  tags: readonly string[];
  /** For credentials that see only part of a workspace (engram scopes); absent = the whole workspace. */
  permits?: (event: EventView) => boolean;
  /**
   * Tags whose invalidation means "what this credential may see changed" (a membership, a new group) rather
   * than "revoked": the server calls `refresh`, which re-verifies the credential and updates `permits` in
   * place, and closes the socket with 4001 only when the credential is no longer valid.
   */
  refreshTags?: readonly string[];
  refresh?: () => Promise<void>;
}

/** A WebSocket path, the error dialect of its refusals, and how its credentials become a grant. */
export interface EventEndpoint {
  path: string;
  face: Face;
  /**
   * Decides without I/O where possible (a cached credential, a token that cannot be valid): a grant, a thrown
   * MnemoError, or undefined when only `authenticate` can tell. The server upgrades synchronously when it can.
   */
  authenticateNow(token: string | undefined): Grant | undefined;
  /** Throws MnemoError('unauthorized') for a missing or invalid token. */
  authenticate(token: string | undefined, header: (name: string) => string | undefined): Promise<Grant>;
}

/** Every event endpoint. Another face adds its stream with one line here. */
export function eventEndpoints(services: Services): EventEndpoint[] {
  return [
    layerKeyEndpoint('/v1/events', services.layerKeys, services.adminKey),
    engramEndpoint('/api/v1/events', services.engramAuth, services.adminKey),
  ];
}

function layerKeyEndpoint(
  path: string,
  layerKeys: LayerKeyService,
  adminKey: AdminKeyVerifier,
): EventEndpoint {
  return {
    path,
    face: 'layer',
    authenticateNow: (token) => {
      requireKindOf(token, 'layer', adminKey);
      const known = layerKeys.authenticateCached(token);
      return known && layerKeyGrant(known);
    },
    authenticate: async (token) => layerKeyGrant(await layerKeys.authenticate(token)),
  };
}

function layerKeyGrant({ principal }: Authenticated<LayerKeyPrincipal>): Grant {
  return {
    workspace: principal.tenant,
    credentialId: `layer:${principal.keyHash}`,
    // The tag revocation publishes (LayerKeyService.revoke), and the workspace-wide one.
    tags: [`layer:${principal.keyHash}`, `workspace:${principal.workspaceId}`],
  };
}

function engramEndpoint(path: string, auth: EngramAuthenticator, adminKey: AdminKeyVerifier): EventEndpoint {
  const grantFor = (
    token: string | undefined,
    header: (name: string) => string | undefined,
    first: EngramPrincipal,
  ): Grant => {
    // Permissions can change while the socket is open (memberships, groups): `refresh` swaps the principal.
    let current = first;
    const org = header('x-mnemo-org');
    return {
      workspace: first.tenant,
      credentialId: `engram:${first.credentialId}`,
      expiresAt: first.expiresAt,
      tags: auth.revocationTags(first),
      refreshTags: auth.refreshTags(first),
      permits: (event) => engramEventPermitted(current, event),
      refresh: async () => {
        current = (await auth.authenticate(token, org)).principal;
      },
    };
  };
  return {
    path,
    face: 'engram',
    authenticateNow: (token) => {
      requireKindOf(token, 'engram', adminKey);
      return undefined;
    },
    authenticate: async (token, header) =>
      grantFor(token, header, (await auth.authenticate(token, header('x-mnemo-org'))).principal),
  };
}
