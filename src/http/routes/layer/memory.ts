import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import type { Namespace } from '../../../memory/namespace.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { ERROR_DETAIL, Nullable, StringEnum } from '../../schemas.js';
import { layerActor, namespaceOf } from './principal.js';
import { LayerName, MemoryFields, NamespaceId, memoryFields } from './shapes.js';

const MemoryId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });
/**
 * The only layer DELETE /v1/memory clears. The reference server accepts any `layer` and clears working memory
 * anyway, answering as if it had cleared the named one; here another value is refused before anything is
 * deleted. Episodes and facts go one by one (DELETE /v1/memory/{id}) or per user (DELETE /v1/users/{id}).
 */
export const INVALID_CLEAR_LAYER =
  'Invalid layer. Use: working (episodic and semantic memories are deleted with DELETE /v1/memory/{id} or DELETE /v1/users/{user_id})';

const ClearedLayer = StringEnum(['working'], {
  description: 'Layer to clear: only working (absent or null: working).',
  [ERROR_DETAIL]: INVALID_CLEAR_LAYER,
});

const ClearRequest = Type.Object({
  user_id: Type.Optional(Nullable(NamespaceId('User of the namespace'))),
  agent_id: Type.Optional(Nullable(NamespaceId('Agent of the namespace'))),
  layer: Type.Optional(Nullable(ClearedLayer)),
});

/**
 * The reference server's `message` for a cleared namespace ("Cleared working memory for agent bot"), naming
 * the user too where one is given, and never "agent None".
 */
function clearedMessage(ns: Namespace): string {
  const who = [
    ...(ns.userId !== null ? [`user ${ns.userId}`] : []),
    ...(ns.agentId !== null ? [`agent ${ns.agentId}`] : []),
  ];
  return `Cleared working memory for ${who.length > 0 ? who.join(' and ') : 'the namespace without user or agent'}`;
}

const erasedMessage = (userId: string, deleted: number): string =>
  `Erased ${deleted} ${deleted === 1 ? 'memory' : 'memories'} of user ${userId} across all layers`;

/** Reading and deleting memories; erasing a user (right to be forgotten). All within the key's workspace. */
export function memoryRoutes(services: Services) {
  return [
    defineRoute({
      method: 'DELETE',
      path: '/v1/memory',
      face: 'layer',
      auth: 'layer',
      summary: "Clear a namespace's working memory (user_id/agent_id in the body or the query).",
      tags: ['memory'],
      schema: {
        querystring: ClearRequest,
        body: ClearRequest,
        response: {
          200: Type.Object({
            deleted: Type.Integer(),
            agent_id: Nullable(Type.String()),
            user_id: Nullable(Type.String()),
            layer: Type.Literal('working'),
            message: Type.String({
              description: 'What was cleared, in words (the reference server sends it).',
            }),
          }),
        },
      },
      handler: async ({ body, query, principal }) => {
        const ns = namespaceOf({
          user_id: body.user_id ?? query.user_id,
          agent_id: body.agent_id ?? query.agent_id,
        });
        const deleted = await services.memory.clearWorking(principal.tenant, layerActor(principal), ns);
        return {
          deleted,
          agent_id: ns.agentId,
          user_id: ns.userId,
          layer: 'working' as const,
          message: clearedMessage(ns),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/memory/:id',
      face: 'layer',
      auth: 'layer',
      summary: 'Read one memory of any layer.',
      tags: ['memory'],
      schema: {
        params: Type.Object({ id: MemoryId }),
        response: { 200: Type.Object(MemoryFields, { title: 'Memory' }) },
      },
      handler: async ({ params, principal }) => {
        const doc = await services.memory.get(principal.tenant, params.id);
        if (!doc) throw fail.notFound('Memory not found');
        return memoryFields(doc as unknown as Record<string, unknown>);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/memory/:id',
      face: 'layer',
      auth: 'layer',
      summary: 'Delete one memory of any layer, from Redis and from every index.',
      tags: ['memory'],
      schema: {
        params: Type.Object({ id: MemoryId }),
        response: { 200: Type.Object({ deleted: Type.Boolean(), id: Type.String(), layer: LayerName }) },
      },
      handler: async ({ params, principal }) => {
        const doc = await services.memory.deleteMemory(principal.tenant, layerActor(principal), params.id);
        if (!doc) throw fail.notFound('Memory not found');
        return { deleted: true, id: doc.id, layer: doc.layer };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/users/:user_id',
      face: 'layer',
      auth: 'layer',
      summary: 'Erase every memory of one user across all layers (right to be forgotten).',
      tags: ['memory'],
      schema: {
        params: Type.Object({ user_id: NamespaceId('User to erase') }),
        response: {
          200: Type.Object({
            deleted: Type.Integer(),
            user_id: Type.String(),
            working: Type.Integer(),
            episodic: Type.Integer(),
            semantic: Type.Integer(),
            message: Type.String({ description: 'What was erased, in words.' }),
          }),
        },
      },
      handler: async ({ params, principal }) => {
        const counts = await services.memory.forgetUser(
          principal.tenant,
          layerActor(principal),
          params.user_id,
        );
        const deleted = counts.working + counts.episodic + counts.semantic;
        return {
          deleted,
          user_id: params.user_id,
          ...counts,
          message: erasedMessage(params.user_id, deleted),
        };
      },
    }),
  ];
}
