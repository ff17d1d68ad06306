import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { NOT_JSON, parseJsonInput } from '../http/json-input.js';

/**
 * Client messages of the event stream (docs/EVENTS.md): JSON text frames with an `op`. Each is validated
 * against its schema; a bad one is answered with an error frame and the socket stays open.
 */

/**
 * A stream id `<ms>-<seq>`. Fifteen digits per part keep ids exact as JS numbers (stream ids are compared
 * numerically) and inside Redis's range; real ids have 13-digit times and small sequence numbers.
 */
export const EVENT_ID_PATTERN = '^\\d{1,15}-\\d{1,15}$';
const SINCE_PATTERN = '^(\\$|\\d{1,15}-\\d{1,15})$';
/** Exact types, `family.*` prefixes, or `*`. */
const TYPE_PATTERN = '^(\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\.\\*)?)$';
const SUBSCRIPTION_ID_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';

export const MAX_TYPE_PATTERNS = 32;

const SubscriptionId = Type.String({ pattern: SUBSCRIPTION_ID_PATTERN });

export const SubscribeMessage = Type.Object(
  {
    op: Type.Literal('subscribe'),
    /** Optional client-chosen id; the server assigns `s1`, `s2`, ... otherwise. */
    id: Type.Optional(SubscriptionId),
    types: Type.Optional(
      Type.Array(Type.String({ pattern: TYPE_PATTERN, maxLength: 128 }), {
        minItems: 1,
        maxItems: MAX_TYPE_PATTERNS,
      }),
    ),
    user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    agent_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    since: Type.Optional(Type.String({ pattern: SINCE_PATTERN })),
  },
  { additionalProperties: false, title: 'SubscribeMessage' },
);

export const UnsubscribeMessage = Type.Object(
  { op: Type.Literal('unsubscribe'), id: SubscriptionId },
  { additionalProperties: false, title: 'UnsubscribeMessage' },
);

export const PingMessage = Type.Object(
  { op: Type.Literal('ping') },
  { additionalProperties: false, title: 'PingMessage' },
);

export type SubscribeMessage = Static<typeof SubscribeMessage>;
export type UnsubscribeMessage = Static<typeof UnsubscribeMessage>;
export type PingMessage = Static<typeof PingMessage>;
export type ClientMessage = SubscribeMessage | UnsubscribeMessage | PingMessage;

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: 'invalid_json' | 'unknown_op' | 'invalid_message'; message: string };

const ajv = new Ajv({ allErrors: false, strict: false });
const validators: Record<ClientMessage['op'], ValidateFunction> = {
  subscribe: ajv.compile(SubscribeMessage),
  unsubscribe: ajv.compile(UnsubscribeMessage),
  ping: ajv.compile(PingMessage),
};
const OPS = Object.keys(validators) as ClientMessage['op'][];

/** Friendlier words than "must match pattern ..." for the fields whose pattern is not self-explanatory. */
const PATTERN_HINTS: Record<string, string> = {
  since: 'must be an event id such as "1700000000000-0", or "$" for new events only',
  types: 'must be an event type such as "memory.fact.added", a family such as "memory.*", or "*"',
  id: 'must be 1-64 characters of A-Z a-z 0-9 . _ : -',
};

/** Parses a client frame through the same input door as HTTP bodies (src/http/json-input.ts). */
export function parseClientMessage(frame: string | Uint8Array): ParseResult {
  const input = parseJsonInput(typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame);
  if (!input.ok || input.value === undefined) {
    const { path, message } = input.ok ? { path: '', message: NOT_JSON } : input.problem;
    if (message === NOT_JSON) {
      return { ok: false, code: 'invalid_json', message: 'The message is not valid JSON' };
    }
    return {
      ok: false,
      code: 'invalid_message',
      message: `${path === '' ? 'The message' : path} ${message}`,
    };
  }
  const value = input.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'invalid_message', message: 'The message must be a JSON object with an op' };
  }
  const op = (value as { op?: unknown }).op;
  if (typeof op !== 'string' || !(OPS as string[]).includes(op)) {
    return {
      ok: false,
      code: 'unknown_op',
      message: `op must be one of: ${OPS.join(', ')}`,
    };
  }
  const validate = validators[op as ClientMessage['op']];
  if (!validate(value)) {
    return { ok: false, code: 'invalid_message', message: describe(validate.errors?.[0]) };
  }
  return { ok: true, message: value as ClientMessage };
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'The message is invalid';
  const path = error.instancePath.split('/').slice(1);
  const field = path.join('.');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${String(params.missingProperty)} is required`;
    case 'additionalProperties':
      return `${String(params.additionalProperty)} is not allowed`;
    case 'type':
      return `${field} must be ${String(params.type)}`;
    case 'pattern':
      return `${field} ${PATTERN_HINTS[path[0] ?? ''] ?? 'has an invalid format'}`;
    default:
      return `${field} ${error.message ?? 'is invalid'}`;
  }
}
