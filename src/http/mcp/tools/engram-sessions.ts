import { Type } from '@sinclair/typebox';
import { ENGRAM_TYPES } from '../../../memory/engrams/model.js';
import { StringEnum } from '../../schemas.js';
import { ScopeName } from '../../routes/engram/shapes.js';
import { defineTool } from '../tool.js';

/** plur_session_start/end (POST /api/v1/sessions...), plur_capture and plur_timeline (/api/v1/episodes). */
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 });
const SessionId = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'The session_id plur_session_start returned.',
});
const Statement = Type.String({ minLength: 1, maxLength: 5000 });

const sessionStart = defineTool({
  name: 'plur_session_start',
  title: 'Start a session',
  description:
    'Begin a working session on a task: returns a session_id and the engrams that apply to the task, already injected. ' +
    'Call it first in a conversation, and end it with plur_session_end.',
  audience: 'engram',
  input: Type.Object({
    task: Type.String({ minLength: 1, maxLength: 5000 }),
    tags: Type.Optional(Tags),
    default_scope: Type.Optional({
      ...ScopeName,
      description: 'Where the session and its learnings belong.',
    }),
  }),
  uses: ['POST /api/v1/sessions'],
  run: (input, call) =>
    call.route('POST', '/api/v1/sessions', {
      body: {
        task: input.task,
        ...(input.tags === undefined ? {} : { tags: input.tags }),
        ...(input.default_scope === undefined ? {} : { scope: input.default_scope }),
      },
    }),
  text: (r) => {
    const engrams = r.engrams as { text: string; count: number };
    return `session ${String(r.session_id)}; ${engrams.count} engrams injected\n\n${engrams.text}`;
  },
});

const sessionEnd = defineTool({
  name: 'plur_session_end',
  title: 'End a session',
  description:
    'Finish a session with a summary and the lessons worth keeping: each suggestion becomes a candidate engram, the summary an episode. ' +
    'Candidates become active once promoted (plur_promote).',
  audience: 'engram',
  input: Type.Object({
    session_id: SessionId,
    summary: Type.String({ minLength: 1, maxLength: 8000 }),
    engram_suggestions: Type.Array(
      Type.Union([
        Statement,
        Type.Object({ statement: Statement, type: Type.Optional(StringEnum(ENGRAM_TYPES)) }),
      ]),
      { maxItems: 50 },
    ),
  }),
  uses: ['POST /api/v1/sessions/:id/end'],
  run: (input, call) =>
    call.route('POST', '/api/v1/sessions/:id/end', {
      params: { id: input.session_id },
      body: { summary: input.summary, learnings: input.engram_suggestions },
    }),
});

const capture = defineTool({
  name: 'plur_capture',
  title: 'Capture an episode',
  description:
    'Record what just happened (a decision, an incident, a finished step) on the timeline, for later plur_timeline queries. ' +
    'Use plur_learn instead for lessons that should shape future behaviour.',
  audience: 'engram',
  input: Type.Object({
    summary: Type.String({ minLength: 1, maxLength: 8000 }),
    agent: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tags: Type.Optional(Tags),
  }),
  uses: ['POST /api/v1/episodes'],
  run: (input, call) => call.route('POST', '/api/v1/episodes', { body: input }),
});

const DateOrTime = Type.String({ maxLength: 40, description: 'YYYY-MM-DD or ISO 8601 date-time' });

const timeline = defineTool({
  name: 'plur_timeline',
  title: 'Query the timeline',
  description:
    'List captured episodes and session summaries, newest first, to see what happened when; filter by time, agent, channel or session.',
  audience: 'engram',
  input: Type.Object({
    since: Type.Optional(DateOrTime),
    until: Type.Optional(DateOrTime),
    agent: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    session: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'Default 50.' })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page.' })),
  }),
  uses: ['GET /api/v1/episodes'],
  annotations: { readOnlyHint: true },
  run: (input, call) => {
    const { since, until, ...rest } = input;
    return call.route('GET', '/api/v1/episodes', {
      query: {
        ...rest,
        ...(since === undefined ? {} : { from: since }),
        ...(until === undefined ? {} : { to: until }),
      },
    });
  },
});

export const sessionTools = [sessionStart, sessionEnd, capture, timeline];
