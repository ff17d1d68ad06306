import type { LayerKeyService } from '../auth/layer-keys.js';
import type { Authenticated, LayerKeyPrincipal } from '../auth/principal.js';
import type { Face } from '../http/route.js';
import type { Services } from '../services.js';
import type { EventView } from './event-view.js';

/**
 * What an event socket may see, decided once at upgrade from its credential. The workspace comes from the
 * credential, never from the client.
 */
export interface Grant {
  workspace: string;
  /** Sockets are counted per credential against MNEMO_WS_MAX_SOCKETS_PER_CREDENTIAL (on each instance). */
  credentialId: string;
  /** Invalidation tags (see CredentialInvalidation): revoking any of them closes the socket with 4001. */
  tags: readonly string[];
  /** For credentials that see only part of a workspace (engram scopes); absent = the whole workspace. */
  permits?: (event: EventView) => boolean;
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
  authenticate(token: string | undefined): Promise<Grant>;
}

/** Every event endpoint. Another face adds its stream with one line here. */
export function eventEndpoints(services: Services): EventEndpoint[] {
  return [
    layerKeyEndpoint('/v1/events', services.layerKeys),
    // engramEndpoint('/api/v1/events', services.engramAuth),
  ];
}

function layerKeyEndpoint(path: string, layerKeys: LayerKeyService): EventEndpoint {
  return {
    path,
    face: 'layer',
    authenticateNow: (token) => {
      const known = layerKeys.authenticateCached(token);
      return known && layerKeyGrant(known);
    },
    authenticate: async (token) => layerKeyGrant(await layerKeys.authenticate(token)),
  };
}

function layerKeyGrant({ principal }: Authenticated<LayerKeyPrincipal>): Grant {
  return {
    workspace: principal.workspaceId,
    credentialId: `layer:${principal.keyHash}`,
    // The tag revocation publishes (LayerKeyService.revoke), and the workspace-wide one.
    tags: [`layer:${principal.keyHash}`, `workspace:${principal.workspaceId}`],
  };
}
