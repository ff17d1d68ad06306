/**
 * A namespace narrows a workspace to one user and/or agent. Working memory is kept per namespace; recall
 * filters by whichever of user_id/agent_id the request gives.
 */
export interface Namespace {
  userId: string | null;
  agentId: string | null;
}

/** user_id / agent_id / session_id: 1–128 characters without spaces, braces or "|". */
export const NAMESPACE_ID_PATTERN = '^[A-Za-z0-9._:@+=/-]{1,128}$';

/** The namespace's key inside a workspace: "<user>|<agent>" with empty parts for absent ids. */
export function namespaceKey(ns: Namespace): string {
  return `${ns.userId ?? ''}|${ns.agentId ?? ''}`;
}

export function parseNamespaceKey(key: string): Namespace {
  const bar = key.indexOf('|');
  const user = key.slice(0, bar);
  const agent = key.slice(bar + 1);
  return { userId: user === '' ? null : user, agentId: agent === '' ? null : agent };
}
