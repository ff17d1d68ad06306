import { Type, type TSchema } from '@sinclair/typebox';
import { hoistNamedSchemas, plainSchema, type JsonObject } from '../http/openapi-components.js';
import { StringEnum, Timestamp } from '../http/schemas.js';
import { EVENT_TYPES } from '../memory/events.js';
import { VERSION } from '../version.js';
import type { EventEndpoint } from './endpoints.js';
import {
  ErrorFrame,
  PongFrame,
  ReplayDoneFrame,
  ReplayGapFrame,
  SubscribedFrame,
  UnsubscribedFrame,
} from './frames.js';
import { EVENT_ID_PATTERN, PingMessage, SubscribeMessage, UnsubscribeMessage } from './protocol.js';

/**
 * The AsyncAPI 3.1 document of the event streams, generated from the schemas that validate client messages
 * (protocol.ts) and serialize server frames (frames.ts), for every endpoint in endpoints.ts: a new stream
 * is described as soon as it is registered. docs/EVENTS.md is the prose companion.
 */

/** The envelope every event has (src/memory/events.ts); `data` differs per type. */
export const EventEnvelopeSchema = Type.Object(
  {
    id: Type.String({ pattern: EVENT_ID_PATTERN, description: 'Stream id <ms>-<seq>; resume from it.' }),
    type: StringEnum(EVENT_TYPES),
    ts: Timestamp(),
    workspace: Type.String(),
    actor: Type.Object({
      type: StringEnum(['api_key', 'user', 'admin', 'system', 'scim']),
      id: Type.String(),
    }),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { title: 'EventEnvelope', description: 'An event: the envelope the write stored, byte for byte.' },
);

interface MessageSpec {
  name: string;
  summary: string;
  schema: TSchema;
}

const CLIENT_MESSAGES: MessageSpec[] = [
  {
    name: 'subscribe',
    summary: 'Adds a subscription (types, user_id, agent_id, since).',
    schema: SubscribeMessage,
  },
  {
    name: 'unsubscribe',
    summary: 'Removes a subscription; its events stop at once.',
    schema: UnsubscribeMessage,
  },
  { name: 'ping', summary: 'Answered with pong.', schema: PingMessage },
];

const SERVER_MESSAGES: MessageSpec[] = [
  { name: 'event', summary: 'An event matching a subscription (no op).', schema: EventEnvelopeSchema },
  { name: 'subscribed', summary: 'A subscription is active.', schema: SubscribedFrame },
  { name: 'unsubscribed', summary: 'Answer to unsubscribe.', schema: UnsubscribedFrame },
  { name: 'replayGap', summary: 'Events between since and first_id are gone.', schema: ReplayGapFrame },
  { name: 'replayDone', summary: 'The replay caught up; live events follow.', schema: ReplayDoneFrame },
  { name: 'pong', summary: 'Answer to ping.', schema: PongFrame },
  { name: 'error', summary: 'A message was refused; the socket stays open.', schema: ErrorFrame },
];

const ref = (path: string): JsonObject => ({ $ref: `#/${path}` });

/** `/api/v1/events` -> `apiV1Events`: a channel or operation id. */
const idOf = (path: string): string =>
  path.replace(/^\//, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''));

const DIALECT: Record<string, string> = {
  layer: '{"detail": "...", "status": N}',
  engram: 'an RFC 7807 problem document',
  scim: 'a SCIM error',
};

/** `host`: where clients connect (host:port), e.g. the Host header of the request for this document. */
export function buildAsyncApi(endpoints: readonly EventEndpoint[], host: string): JsonObject {
  const messages: JsonObject = {};
  for (const { name, summary, schema } of [...CLIENT_MESSAGES, ...SERVER_MESSAGES]) {
    messages[name] = { name, summary, contentType: 'application/json', payload: plainSchema(schema) };
  }
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  for (const endpoint of endpoints) {
    const channel = idOf(endpoint.path);
    const channelMessages = (list: MessageSpec[]): JsonObject =>
      Object.fromEntries(list.map((m) => [m.name, ref(`components/messages/${m.name}`)]));
    channels[channel] = {
      address: endpoint.path,
      title: endpoint.path,
      description:
        `Event stream of the ${endpoint.face} API. A refused upgrade is answered in its HTTP error dialect, ` +
        `${DIALECT[endpoint.face] ?? 'its error body'}: 401 bad credential, 429 too many sockets, 503 unavailable.`,
      messages: { ...channelMessages(CLIENT_MESSAGES), ...channelMessages(SERVER_MESSAGES) },
      bindings: {
        ws: {
          method: 'GET',
          query: Type.Object({
            access_token: Type.Optional(Type.String({ description: 'The credential, as a last resort.' })),
          }),
          bindingVersion: '0.1.0',
        },
      },
    };
    const list = (specs: MessageSpec[]): JsonObject[] =>
      specs.map((m) => ref(`channels/${channel}/messages/${m.name}`));
    operations[`${channel}ClientMessages`] = {
      action: 'receive',
      channel: ref(`channels/${channel}`),
      summary: `Messages a client sends on ${endpoint.path}.`,
      messages: list(CLIENT_MESSAGES),
    };
    operations[`${channel}ServerFrames`] = {
      action: 'send',
      channel: ref(`channels/${channel}`),
      summary: `Events and control frames the server sends on ${endpoint.path}.`,
      messages: list(SERVER_MESSAGES),
    };
  }
  const { value, schemas } = hoistNamedSchemas(
    JSON.parse(JSON.stringify({ channels, messages })) as {
      channels: JsonObject;
      messages: JsonObject;
    },
  );
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'mnemo event streams',
      version: VERSION,
      description:
        'Live events of a workspace over WebSocket, filtered, in order, resumable (docs/EVENTS.md).',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      mnemo: {
        host,
        protocol: 'ws',
        description: 'This server (wss behind a TLS proxy).',
        security: [ref('components/securitySchemes/bearer'), ref('components/securitySchemes/accessToken')],
      },
    },
    channels: value.channels,
    operations,
    components: {
      schemas,
      messages: value.messages,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Authorization: Bearer <key>, or for browsers Sec-WebSocket-Protocol: bearer, <key>.',
        },
        accessToken: { type: 'httpApiKey', name: 'access_token', in: 'query' },
      },
    },
  };
}
