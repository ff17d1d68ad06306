import { performance } from 'node:perf_hooks';
import { Type } from '@sinclair/typebox';
import { LAYERS, type Layer } from '../../../memory/documents.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { ERROR_DETAIL, Nullable, StringEnum, Warnings } from '../../schemas.js';
import { namespaceOf } from './principal.js';
import {
  LayerName,
  MEMORY_DETAILS,
  MemoryCoreFields,
  MemoryDetailFields,
  NamespaceId,
  memoryFields,
} from './shapes.js';

const Mode = StringEnum(['hybrid', 'hybrid-degraded', 'keyword', 'vector'], {
  description:
    'hybrid: BM25 and vectors; hybrid-degraded: the query could not be embedded in time, BM25 only; keyword: BM25 only; vector: embeddings only.',
});

/**
 * A recall result. By default exactly the reference `RankedMemory` fields (the Plyra SDK validates them with
 * `extra="forbid"`); mnemo's detail fields only when the request's `include` asks for them.
 */
const RankedMemory = Type.Object(
  {
    ...MemoryCoreFields,
    score: Type.Number(),
    similarity: Type.Number(),
    recency: Type.Number(),
    ...MemoryDetailFields,
  },
  { title: 'RankedMemory' },
);

/**
 * The reference server's 400 for an unknown layer; here it answers any invalid `layers` value (not a list,
 * a non-string or unknown entry, a list longer than any sensible filter) alike.
 */
export const INVALID_LAYER = `Invalid layer. Use: ${LAYERS.join(', ')}`;
/** Repeats are harmless (each entry counts once) but lists are still bounded. */
const MAX_LIST_ENTRIES = 16;

const Layers = Nullable(
  Type.Array(LayerName, {
    maxItems: MAX_LIST_ENTRIES,
    description: `Only these layers (${LAYERS.join(', ')}); absent, null or empty: all three.`,
    [ERROR_DETAIL]: INVALID_LAYER,
  }),
);

export const INVALID_INCLUDE = `Invalid include. Use: ${MEMORY_DETAILS.join(', ')}`;

const Include = Nullable(
  Type.Array(StringEnum(MEMORY_DETAILS), {
    maxItems: MAX_LIST_ENTRIES,
    description:
      'Detail groups to add to each result: namespace (user_id, agent_id, session_id), event (episodic), ' +
      'expires_at (working), fact (semantic: the triple, confidence, validity). Absent, null or empty: none (the reference shape).',
    [ERROR_DETAIL]: INVALID_INCLUDE,
  }),
);

/**
 * Layers of a (validated) recall request, each once. An empty list means all layers, as on the reference
 * server (`if body.layers:`), so clients that always send the field keep working.
 */
export function parseLayers(layers: readonly Layer[] | null | undefined): Layer[] {
  if (layers === undefined || layers === null || layers.length === 0) return [...LAYERS];
  return [...new Set(layers)];
}

/** POST /v1/recall: hybrid search across the three layers (contract: plyra seed; reference §2.3, §2.5). */
export function recallRoutes(services: Services) {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/recall',
      face: 'layer',
      auth: 'layer',
      writeHeavy: false,
      summary: 'Search the working, episodic and semantic layers and return ranked memories.',
      tags: ['memory'],
      schema: {
        body: Type.Object({
          query: Type.String({ minLength: 1, maxLength: 500 }),
          top_k: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
          layers: Type.Optional(Layers),
          include: Type.Optional(Include),
          user_id: Type.Optional(Nullable(NamespaceId('Only memories of this user'))),
          agent_id: Type.Optional(Nullable(NamespaceId('Only memories of this agent'))),
          mode: Type.Optional(
            StringEnum(['hybrid', 'keyword', 'vector'], {
              default: 'hybrid',
              description: 'keyword: BM25 only, no embedding; vector: embeddings only.',
            }),
          ),
          token_budget: Type.Optional(
            Nullable(
              Type.Integer({ minimum: 1, description: 'Accepted for compatibility; use /v1/context.' }),
            ),
          ),
        }),
        response: {
          200: Type.Object(
            {
              query: Type.String(),
              results: Type.Array(RankedMemory),
              total_found: Type.Integer(),
              cache_hit: Type.Boolean(),
              latency_ms: Type.Number(),
              mode: Mode,
              vector: Type.Boolean({ description: 'Whether the vector leg took part.' }),
              degraded_reason: Nullable(Type.String()),
              warnings: Warnings(),
            },
            { title: 'RecallResponse' },
          ),
        },
      },
      handler: async ({ body, principal }) => {
        const started = performance.now();
        const result = await services.recall.recall({
          workspace: principal.tenant,
          query: body.query,
          topK: body.top_k,
          layers: parseLayers(body.layers),
          filter: namespaceOf(body),
          mode: body.mode ?? 'hybrid',
        });
        services.metrics.recallObserved('recall', result.mode, (performance.now() - started) / 1000);
        return {
          query: body.query,
          results: result.results.map((r) => ({
            ...memoryFields(r.record, body.include ?? []),
            content: r.content,
            score: r.score,
            similarity: r.similarity,
            recency: r.recency,
          })),
          total_found: result.totalFound,
          cache_hit: result.cacheHit,
          latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
          mode: result.mode,
          vector: result.vector,
          degraded_reason: result.degradedReason,
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/context',
      face: 'layer',
      auth: 'layer',
      writeHeavy: false,
      summary: 'Build a context string of the most relevant memories within a token budget.',
      tags: ['memory'],
      schema: {
        body: Type.Object({
          query: Type.String({ minLength: 1, maxLength: 500 }),
          token_budget: Type.Integer({ minimum: 64, maximum: 32_000, default: 2048 }),
          user_id: Type.Optional(Nullable(NamespaceId('Only memories of this user'))),
          agent_id: Type.Optional(Nullable(NamespaceId('Only memories of this agent'))),
        }),
        response: {
          200: Type.Object({
            query: Type.String(),
            content: Type.String(),
            token_count: Type.Integer(),
            token_budget: Type.Integer(),
            memories_used: Type.Integer(),
            cache_hit: Type.Boolean(),
            latency_ms: Type.Number(),
            mode: Mode,
            warnings: Warnings(),
          }),
        },
      },
      handler: async ({ body, principal }) => {
        const started = performance.now();
        const result = await services.recall.context({
          workspace: principal.tenant,
          query: body.query,
          tokenBudget: body.token_budget,
          filter: namespaceOf(body),
        });
        services.metrics.recallObserved('context', result.mode, (performance.now() - started) / 1000);
        return {
          query: body.query,
          content: result.content,
          token_count: result.tokenCount,
          token_budget: body.token_budget,
          memories_used: result.memoriesUsed,
          cache_hit: result.cacheHit,
          latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
          mode: result.mode,
        };
      },
    }),
  ];
}
