import { Type, type Static, type TSchema } from '@sinclair/typebox';
import fastJson from 'fast-json-stringify';

/**
 * Frames the server sends besides events (docs/EVENTS.md). Every one carries an `op`; an event is the bare
 * envelope and has none, so `"op" in frame` tells them apart. Each frame has a schema and a compiled
 * fast-json-stringify serializer: only declared fields are ever sent.
 */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_message',
  'unknown_op',
  'message_too_large',
  'too_many_subscriptions',
  'duplicate_subscription',
  'unknown_subscription',
  'since_behind',
  'since_unknown',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const SubscribedFrame = Type.Object(
  {
    op: Type.Literal('subscribed'),
    subscription: Type.String(),
    /** Events with a greater id are delivered (the resolved `since`; for `$`, the newest id at subscription). */
    from: Type.String(),
    types: Type.Optional(Type.Array(Type.String())),
    user_id: Type.Optional(Type.String()),
    agent_id: Type.Optional(Type.String()),
  },
  { title: 'SubscribedFrame' },
);

export const UnsubscribedFrame = Type.Object(
  {
    op: Type.Literal('unsubscribed'),
    subscription: Type.String(),
  },
  { title: 'UnsubscribedFrame' },
);

export const ReplayGapFrame = Type.Object(
  {
    op: Type.Literal('replay.gap'),
    subscription: Type.String(),
    since: Type.String(),
    /** Oldest event still kept: the replay continues from here; events between `since` and it are gone. */
    first_id: Type.String(),
  },
  { title: 'ReplayGapFrame' },
);

export const ReplayDoneFrame = Type.Object(
  {
    op: Type.Literal('replay.done'),
    subscription: Type.String(),
    /** Newest event id the replay examined: from here on the subscription is live. */
    last_id: Type.String(),
  },
  { title: 'ReplayDoneFrame' },
);

export const ErrorFrame = Type.Object(
  {
    op: Type.Literal('error'),
    code: Type.Union(ERROR_CODES.map((code) => Type.Literal(code))),
    message: Type.String(),
    subscription: Type.Optional(Type.String()),
  },
  { title: 'ErrorFrame' },
);

export const PongFrame = Type.Object({ op: Type.Literal('pong') }, { title: 'PongFrame' });

function serializer<S extends TSchema>(schema: S): (frame: Static<S>) => string {
  return fastJson(schema as object) as (frame: Static<S>) => string;
}

const serialize = {
  subscribed: serializer(SubscribedFrame),
  unsubscribed: serializer(UnsubscribedFrame),
  replayGap: serializer(ReplayGapFrame),
  replayDone: serializer(ReplayDoneFrame),
  error: serializer(ErrorFrame),
};

export const frames = {
  subscribed: (frame: Omit<Static<typeof SubscribedFrame>, 'op'>): string =>
    serialize.subscribed({ op: 'subscribed', ...frame }),
  unsubscribed: (subscription: string): string =>
    serialize.unsubscribed({ op: 'unsubscribed', subscription }),
  replayGap: (subscription: string, since: string, firstId: string): string =>
    serialize.replayGap({ op: 'replay.gap', subscription, since, first_id: firstId }),
  replayDone: (subscription: string, lastId: string): string =>
    serialize.replayDone({ op: 'replay.done', subscription, last_id: lastId }),
  error: (code: ErrorCode, message: string, subscription?: string): string =>
    serialize.error({ op: 'error', code, message, ...(subscription === undefined ? {} : { subscription }) }),
  pong: serializer(PongFrame)({ op: 'pong' }),
};
