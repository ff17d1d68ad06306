import type { LayerKeyPrincipal } from '../../../auth/principal.js';
import type { Actor } from '../../../memory/events.js';
import type { Namespace } from '../../../memory/namespace.js';

/** Who an event of a layer-API write names: the API key. */
export const layerActor = (principal: LayerKeyPrincipal): Actor => ({ type: 'api_key', id: principal.keyId });

/** The namespace a request names (absent and null both mean "not narrowed"). */
export const namespaceOf = (input: {
  user_id?: string | null | undefined;
  agent_id?: string | null | undefined;
}): Namespace => ({
  userId: input.user_id ?? null,
  agentId: input.agent_id ?? null,
});
