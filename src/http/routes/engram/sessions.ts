import { Type } from '@sinclair/typebox';
import { ENGRAM_TYPES } from '../../../memory/engrams/model.js';
import type { SessionRecord } from '../../../memory/engrams/sessions.js';
import type { Services } from '../../../services.js';
import { requestContext } from '../../request-context.js';
import { defineRoute } from '../../route.js';
import { Nullable, StringEnum, Timestamp } from '../../schemas.js';
import { ScopeName } from './shapes.js';

/** /api/v1/sessions: start (inject for the task), end (learnings -> candidates, summary -> episode), read. */
const SessionIdParams = Type.Object({
  id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
});
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 });
const Statement = Type.String({ minLength: 1, maxLength: 5000 });

const Session = Type.Object(
  {
    session_id: Type.String(),
    task: Type.String(),
    scope: Type.String(),
    tags: Type.Array(Type.String()),
    status: StringEnum(['active', 'ended']),
    started_at: Timestamp(),
    ended_at: Nullable(Timestamp()),
    summary: Nullable(Type.String()),
    injected_ids: Type.Array(Type.String()),
    candidate_ids: Type.Array(Type.String()),
    repeated_ids: Type.Array(Type.String(), {
      description: 'Live engrams that learnings repeated (counted as re-learns, not created).',
    }),
    episode_id: Nullable(Type.String()),
  },
  { title: 'Session' },
);

const sessionWire = (s: SessionRecord) => ({
  session_id: s.id,
  task: s.task,
  scope: s.scope,
  tags: s.tags,
  status: s.status,
  started_at: s.started_at,
  ended_at: s.ended_at,
  summary: s.summary,
  injected_ids: s.injected_ids,
  candidate_ids: s.candidate_ids,
  repeated_ids: s.repeated_ids,
  episode_id: s.episode_id,
});

export function sessionRoutes(services: Services) {
  const { sessions } = services.engrams;
  return [
    defineRoute({
      method: 'POST',
      path: '/api/v1/sessions',
      errors: ['forbidden'],
      face: 'engram',
      auth: 'engram',
      status: 201,
      summary: 'Start a session: the engrams for the task are injected at once.',
      tags: ['sessions'],
      schema: {
        body: Type.Object({
          task: Type.String({ minLength: 1, maxLength: 5000 }),
          scope: Type.Optional(ScopeName),
          tags: Type.Optional(Tags),
        }),
        response: {
          201: Type.Object({
            session_id: Type.String(),
            engrams: Type.Object({
              text: Type.String(),
              count: Type.Integer(),
              injected_ids: Type.Array(Type.String()),
            }),
          }),
        },
      },
      handler: async ({ body, principal, ...request }) => {
        const { session, injection } = await sessions.start(
          principal,
          { task: body.task, scope: body.scope, tags: [...new Set(body.tags ?? [])] },
          requestContext(principal, request),
        );
        return {
          session_id: session.id,
          engrams: { text: injection.text, count: injection.count, injected_ids: injection.injectedIds },
        };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/sessions/:id/end',
      errors: ['forbidden', 'conflict'],
      face: 'engram',
      auth: 'engram',
      summary: 'End a session: learnings become candidate engrams, the summary an episode.',
      tags: ['sessions'],
      schema: {
        params: SessionIdParams,
        body: Type.Object({
          summary: Type.String({ minLength: 1, maxLength: 8000 }),
          learnings: Type.Array(
            Type.Union([
              Statement,
              Type.Object({ statement: Statement, type: Type.Optional(StringEnum(ENGRAM_TYPES)) }),
            ]),
            { maxItems: 50, default: [] },
          ),
        }),
        response: {
          200: Type.Object({
            engrams_created: Type.Integer(),
            candidate_ids: Type.Array(Type.String()),
            episode_id: Type.String(),
          }),
        },
      },
      handler: async ({ params, body, principal, ...request }) => {
        const session = await sessions.end(principal, params.id, body, requestContext(principal, request));
        return {
          engrams_created: session.candidate_ids.length,
          candidate_ids: session.candidate_ids,
          episode_id: session.episode_id ?? '',
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/v1/sessions/:id',
      face: 'engram',
      auth: 'engram',
      summary: 'Read a session (yours, or any as an organisation admin).',
      tags: ['sessions'],
      schema: { params: SessionIdParams, response: { 200: Session } },
      handler: async ({ params, principal }) => sessionWire(await sessions.get(principal, params.id)),
    }),
  ];
}
