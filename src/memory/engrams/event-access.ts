import type { EngramPrincipal } from '../../auth/principal.js';
import type { EventView } from '../event-view.js';

/**
 * Engram-API sockets and webhooks see the engram events of the scopes their principal reads, the
 * organisation's episodes, their own sessions, and (organisation admins) everything else of the
 * organisation's tenant: identity and key events. A layer workspace of the same name is another tenant,
 * never seen here.
 */
export function engramEventPermitted(principal: EngramPrincipal, event: EventView): boolean {
  if (event.type.startsWith('engram.')) return event.scope !== null && principal.access.canRead(event.scope);
  if (event.type === 'episode.captured' || event.type === 'memory.episode.added') return true;
  if (principal.isOrgAdmin) return true;
  if (event.type.startsWith('session.'))
    return event.owner !== null && event.owner === (principal.userId ?? 'admin');
  return false;
}
