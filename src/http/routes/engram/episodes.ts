import { Type } from '@sinclair/typebox';
import type { EpisodeDoc } from '../../../memory/documents.js';
import { NAMESPACE_ID_PATTERN } from '../../../memory/namespace.js';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';
import { Nullable, Timestamp } from '../../schemas.js';

/**
 * /api/v1/episodes: the organisation's timeline. These are the layer API's episodes (summary = content,
 * agent = agent_id), so both APIs see the same ones.
 */
const AgentId = Type.String({ pattern: NAMESPACE_ID_PATTERN, description: '1-128 characters, no spaces' });
const Channel = Type.String({ minLength: 1, maxLength: 64 });
const DateOrTime = Type.String({
  pattern: '^\\d{4}-\\d\\d-\\d\\d(T[0-9:.]+(Z|[+-]\\d\\d:\\d\\d)?)?$',
  description: 'YYYY-MM-DD or ISO 8601 date-time',
});

const Episode = Type.Object(
  {
    id: Type.String(),
    summary: Type.String(),
    agent: Nullable(Type.String()),
    channel: Nullable(Type.String()),
    session_id: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    event: Type.String({
      description: 'custom for captured episodes, summary for session ends; layer events otherwise',
    }),
    user_id: Nullable(Type.String()),
    created_at: Timestamp(),
  },
  { title: 'Episode' },
);

export function episodeWire(doc: EpisodeDoc) {
  return {
    id: doc.id,
    summary: doc.content,
    agent: doc.agent_id,
    channel: doc.channel ?? null,
    session_id: doc.session_id,
    tags: Array.isArray(doc.tags) ? doc.tags : [],
    event: doc.event,
    user_id: doc.user_id,
    created_at: doc.created_at,
  };
}

const EpisodeIdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }) });

export function episodeRoutes(services: Services) {
  const { episodes } = services.engrams;
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/episodes',
      face: 'engram',
      auth: 'engram',
      summary: 'Query the timeline, newest first (filters: from, to, agent, channel, session).',
      tags: ['episodes'],
      schema: {
        querystring: Type.Object({
          from: Type.Optional(DateOrTime),
          to: Type.Optional(DateOrTime),
          agent: Type.Optional(AgentId),
          channel: Type.Optional(Channel),
          session: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
          cursor: Type.Optional(
            Type.String({ maxLength: 200, description: 'next_cursor of the previous page' }),
          ),
        }),
        response: { 200: Type.Object({ rows: Type.Array(Episode), next_cursor: Nullable(Type.String()) }) },
      },
      handler: async ({ query, principal }) => {
        const page = await episodes.list(principal, query);
        return { rows: page.episodes.map(episodeWire), next_cursor: page.next };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/episodes',
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Capture an episode.',
      tags: ['episodes'],
      schema: {
        body: Type.Object({
          summary: Type.String({ minLength: 1, maxLength: 8000 }),
          agent: Type.Optional(Nullable(AgentId)),
          channel: Type.Optional(Nullable(Channel)),
          session_id: Type.Optional(Nullable(Type.String({ pattern: NAMESPACE_ID_PATTERN }))),
          tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
        }),
        response: { 201: Episode },
      },
      handler: async ({ body, principal }) =>
        episodeWire(
          await episodes.capture(principal, {
            summary: body.summary,
            agent: body.agent ?? null,
            channel: body.channel ?? null,
            sessionId: body.session_id ?? null,
            tags: [...new Set(body.tags ?? [])],
          }),
        ),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/episodes/:id',
      face: 'engram',
      auth: 'engram',
      summary: 'Read one episode.',
      tags: ['episodes'],
      schema: { params: EpisodeIdParams, response: { 200: Episode } },
      handler: async ({ params, principal }) => episodeWire(await episodes.get(principal, params.id)),
    }),
  ];
}
