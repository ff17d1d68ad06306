import { Type, type Static, type TOptional, type TString } from '@sinclair/typebox';
import type { RecallMode } from '../../../memory/engrams/engram-recall.js';
import {
  NULLABLE_FIELDS,
  RECALL_MAX_ANSWER_BYTES,
  type RecallAnswer,
} from '../../../memory/engrams/recall-answer.js';
import { ENGRAM_TYPES } from '../../../memory/engrams/model.js';
import type { EngramPrincipal } from '../../../auth/principal.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { StringEnum } from '../../schemas.js';
import { EngramData } from './shapes.js';

/**
 * POST /api/v1/recall and /recall/bm25 (plur.md §1.3, §1.6). They only read (their bookkeeping counters
 * aside), so they count against the general rate limit only: `writeHeavy: false`, like the layer API's
 * recall. Scope narrowing is silent and reported in dropped_scopes, never a 403.
 */
const RecallFields = {
  query: Type.String({ minLength: 1, maxLength: 1000, description: 'Clients truncate to 1000 characters.' }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  scopes: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
      maxItems: 50,
      description:
        'Scopes to search, each with its readable sub-scopes ([] searches nothing); every readable scope when absent.',
    }),
  ),
  domain: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'This domain and below.' })),
  type: Type.Optional(StringEnum(ENGRAM_TYPES)),
  tags: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      maxItems: 20,
      description: 'Engrams carrying every one of these tags.',
    }),
  ),
  timeout_ms: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 60_000,
      description: 'Budget for embedding the query; past it the answer comes from BM25 (hybrid-degraded).',
    }),
  ),
};

const HybridBody = Type.Object({
  ...RecallFields,
  mode: StringEnum(['hybrid', 'keyword'], { default: 'hybrid' }),
});
const KeywordBody = Type.Object({
  ...RecallFields,
  mode: Type.Optional(StringEnum(['keyword'], { description: 'Always keyword here.' })),
});

/**
 * A result is the engram itself at the top level, each field once and null fields left out (see
 * recall-answer.ts): GET /engrams/{id}'s `data` without the duplicate `retrieval_strength` and the row
 * timestamps.
 */
const {
  retrieval_strength: _inActivation,
  created_at: _created,
  updated_at: _updated,
  activation,
  ...resultFields
} = EngramData.properties;
const absentWhenNull = Object.fromEntries(
  NULLABLE_FIELDS.map((field) => [field, Type.Optional(Type.String())]),
) as { [K in (typeof NULLABLE_FIELDS)[number]]: TOptional<TString> };
const RecallResult = Type.Object(
  {
    ...resultFields,
    ...absentWhenNull,
    activation: Type.Object({
      ...activation.properties,
      last_accessed: Type.Optional(Type.String({ description: 'Absent until first recalled.' })),
    }),
    score: Type.Number({ minimum: 0, maximum: 1 }),
  },
  { additionalProperties: true, description: 'An engram, null fields left out, with its fused score.' },
);

const RecallResponse = Type.Object(
  {
    results: Type.Array(RecallResult),
    count: Type.Integer(),
    mode: StringEnum(['hybrid', 'hybrid-degraded', 'keyword']),
    requested_mode: StringEnum(['hybrid', 'keyword']),
    vector: Type.Boolean({ description: 'Whether the vector leg took part.' }),
    effective_scopes: Type.Array(Type.String()),
    dropped_scopes: Type.Array(Type.String()),
    truncated: Type.Boolean({
      description: `Whether lower-ranked results were left out to keep the answer within ${RECALL_MAX_ANSWER_BYTES / 1024} KiB.`,
    }),
  },
  { title: 'EngramRecallResponse' },
);

export function recallRoutes(services: Services) {
  const run = (
    principal: EngramPrincipal,
    body: Omit<Static<typeof KeywordBody>, 'mode'>,
    mode: RecallMode,
  ): Promise<RecallAnswer> => {
    const started = performance.now();
    return services.engrams.recall
      .recall(principal, {
        query: body.query,
        mode,
        limit: body.limit,
        scopes: body.scopes,
        domain: body.domain,
        type: body.type,
        tags: body.tags,
        timeoutMs: body.timeout_ms ?? services.config.embedTimeoutMs,
      })
      .then((answer) => {
        const seconds = (performance.now() - started) / 1000;
        services.metrics.recallObserved('engram_recall', answer.mode, seconds);
        return answer;
      });
  };
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/recall',
      face: 'engram',
      auth: 'engram',
      writeHeavy: false,
      summary: 'Search engrams: BM25 and embeddings fused with RRF (k = 60); score 0..1.',
      tags: ['search'],
      schema: { body: HybridBody, response: { 200: RecallResponse } },
      handler: async ({ body, principal }) => run(principal, body, body.mode),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/recall/bm25',
      face: 'engram',
      auth: 'engram',
      writeHeavy: false,
      summary: 'Search engrams with BM25 only.',
      tags: ['search'],
      schema: { body: KeywordBody, response: { 200: RecallResponse } },
      handler: async ({ body, principal }) => run(principal, body, 'keyword'),
    }),
  ];
}
