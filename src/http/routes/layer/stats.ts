import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { Nullable, Timestamp } from '../../schemas.js';
import { namespaceOf } from './principal.js';
import { NamespaceId } from './shapes.js';

/**
 * GET /v1/stats: counts of the caller's workspace only (the reference server's counts leak across
 * tenants). Both documented shapes are returned: working_entries/episodic_records/semantic_facts and
 * working/episodic/semantic. With user_id/agent_id the counts are of that namespace.
 */
export function statsRoutes(services: Services) {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/stats',
      face: 'layer',
      auth: 'layer',
      summary: "Memory statistics of the key's workspace (optionally of one user/agent).",
      tags: ['memory'],
      schema: {
        querystring: Type.Object({
          user_id: Type.Optional(NamespaceId('Count only this user')),
          agent_id: Type.Optional(NamespaceId('Count only this agent')),
        }),
        response: {
          200: Type.Object({
            workspace_id: Type.String(),
            working_entries: Type.Integer(),
            episodic_records: Type.Integer(),
            semantic_facts: Type.Integer({
              description: 'Current facts (superseded ones are kept as history).',
            }),
            agents: Type.Array(Type.String()),
            last_write: Nullable(Timestamp()),
            working: Type.Integer(),
            episodic: Type.Integer(),
            semantic: Type.Integer(),
            extraction_failures: Type.Integer(),
            embedding_failures: Type.Integer(),
            cache_size: Type.Integer(),
            uptime_seconds: Type.Number(),
          }),
        },
      },
      handler: async ({ query, principal }) => {
        const workspace = principal.tenant;
        const counts = await services.memory.counts(workspace);
        const ns = namespaceOf(query);
        const narrowed = ns.userId !== null || ns.agentId !== null;
        // Narrowed: counts and agents of that namespace only (the agents a user's memories came from).
        const { counts: layer, agents } = narrowed
          ? await services.recall.namespaceCounts(workspace, ns)
          : {
              counts: { working: counts.working, episodic: counts.episodic, semantic: counts.semantic },
              agents: counts.agents,
            };
        return {
          workspace_id: principal.workspaceId,
          working_entries: layer.working,
          episodic_records: layer.episodic,
          semantic_facts: layer.semantic,
          agents,
          last_write: counts.lastWrite,
          working: layer.working,
          episodic: layer.episodic,
          semantic: layer.semantic,
          extraction_failures: counts.extractionFailures,
          embedding_failures: counts.embeddingFailures,
          cache_size: services.recall.cacheSize(workspace),
          uptime_seconds: Math.round((Date.now() - services.startedAt) / 100) / 10,
        };
      },
    }),
  ];
}
