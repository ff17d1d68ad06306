import { performance } from 'node:perf_hooks';
import { Type } from '@sinclair/typebox';
import { fail } from '../../../errors.js';
import { EPISODE_EVENTS } from '../../../memory/episode-events.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { Nullable, StringEnum, Timestamp, Warnings } from '../../schemas.js';
import { NamespaceId } from './shapes.js';
import { layerActor, namespaceOf } from './principal.js';

const RememberedFact = Type.Object({
  id: Type.String(),
  subject: Type.String(),
  predicate: Type.String(),
  object: Type.String(),
  content: Type.String(),
  confidence: Type.Number(),
  status: StringEnum(['added', 'confirmed'], {
    description: 'added: a new fact; confirmed: it was already known.',
  }),
  superseded: Type.Array(Type.String(), { description: 'Ids of facts this one replaced (kept as history).' }),
});

/** POST /v1/remember: one write to all three layers (contract: plyra seed; reference §2.3). */
export function rememberRoutes(services: Services) {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/remember',
      face: 'layer',
      auth: 'layer',
      summary: 'Write a memory to the working, episodic and semantic layers at once.',
      tags: ['memory'],
      schema: {
        body: Type.Object({
          content: Type.String({
            minLength: 1,
            maxLength: 8000,
            description: 'Memory content (1-8000 characters).',
          }),
          importance: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
          metadata: Type.Record(Type.String(), Type.Unknown(), {
            default: {},
            description: 'Custom metadata (JSON object, bounded).',
          }),
          user_id: Type.Optional(Nullable(NamespaceId('User the memory is about'))),
          agent_id: Type.Optional(Nullable(NamespaceId('Agent that wrote the memory'))),
          session_id: Type.Optional(Nullable(NamespaceId('Session of the episode'))),
          source: Type.Optional(
            Nullable(
              Type.String({
                maxLength: 64,
                description: 'user_message, agent_response, tool_call, tool_output, ...',
              }),
            ),
          ),
          event: Type.Optional(
            StringEnum(EPISODE_EVENTS, { description: 'Episode event type (wins over source).' }),
          ),
          created_at: Type.Optional(
            Timestamp({
              description:
                'When it happened (imports of past conversations); default now; not in the future.',
            }),
          ),
          ttl_seconds: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 315_360_000,
              description: 'Working-entry lifetime; 0 keeps it.',
            }),
          ),
        }),
        response: {
          200: Type.Object(
            {
              working: Type.Object({
                id: Type.String(),
                content: Type.String(),
                importance: Type.Number(),
                created_at: Timestamp(),
                expires_at: Nullable(Timestamp()),
              }),
              episodic: Type.Object({
                id: Type.String(),
                content: Type.String(),
                event: Type.String(),
                created_at: Timestamp(),
              }),
              facts: Type.Array(RememberedFact),
              working_entry_id: Type.String(),
              episode_id: Type.String(),
              evicted: Type.Array(Type.String(), { description: 'Working entries evicted to make room.' }),
              facts_queued: Type.Boolean({
                description:
                  'Fact extraction ran (the rules, on every remember) or was queued for this memory; as on the reference server, true.',
              }),
              llm_extraction_queued: Type.Boolean({
                description:
                  'An LLM extraction job was queued: more facts may arrive as memory.fact.added events.',
              }),
              latency_ms: Type.Number(),
              warnings: Warnings(),
            },
            { title: 'RememberResponse' },
          ),
        },
      },
      handler: async ({ body, principal }) => {
        const started = performance.now();
        const metadataBytes = Buffer.byteLength(JSON.stringify(body.metadata));
        if (metadataBytes > services.config.metadataMaxBytes) {
          throw fail.validation(
            `body.metadata must not exceed ${services.config.metadataMaxBytes} bytes as JSON`,
          );
        }
        const at = body.created_at === undefined ? undefined : new Date(body.created_at);
        if (at && at.getTime() > Date.now() + 300_000)
          throw fail.validation('body.created_at must not be in the future');
        const result = await services.memory.remember({
          workspace: principal.tenant,
          actor: layerActor(principal),
          ns: namespaceOf(body),
          content: body.content,
          importance: body.importance,
          metadata: body.metadata,
          sessionId: body.session_id ?? null,
          source: body.source ?? null,
          event: body.event ?? null,
          ttlSeconds: body.ttl_seconds,
          at,
        });
        const { working, episode } = result;
        return {
          working: {
            id: working.id,
            content: working.content,
            importance: working.importance,
            created_at: working.created_at,
            expires_at: working.expires_at === null ? null : new Date(working.expires_at).toISOString(),
          },
          episodic: {
            id: episode.id,
            content: episode.content,
            event: episode.event,
            created_at: episode.created_at,
          },
          facts: result.facts.map((f) => ({
            id: f.doc.id,
            subject: f.doc.subject,
            predicate: f.doc.predicate,
            object: f.doc.object,
            content: f.doc.content,
            confidence: f.doc.confidence,
            status: f.outcome,
            superseded: f.superseded,
          })),
          working_entry_id: working.id,
          episode_id: episode.id,
          evicted: result.evicted,
          facts_queued: result.extraction.length > 0,
          llm_extraction_queued: result.extraction.includes('llm'),
          latency_ms: Math.round((performance.now() - started) * 1000) / 1000,
        };
      },
    }),
  ];
}
