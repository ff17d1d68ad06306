import { Type } from '@sinclair/typebox';
import type { Services } from '../../services.js';
import { buildAsyncApi } from '../../ws/asyncapi.js';
import { eventEndpoints } from '../../ws/endpoints.js';
import { defineRoute, rawReply } from '../route.js';

/**
 * GET /asyncapi.json: the AsyncAPI 3.1 document of both event streams (/v1/events, /api/v1/events). Its
 * server is the host the client asked for, so the document is right behind any port or proxy.
 */
export function asyncApiRoutes(services: Services) {
  const endpoints = eventEndpoints(services);
  return [
    defineRoute({
      method: 'GET',
      path: '/asyncapi.json',
      face: 'layer',
      auth: 'none',
      summary: 'AsyncAPI 3.1 document of the WebSocket event streams (JSON).',
      tags: ['meta'],
      schema: { response: { 200: Type.Unknown() } },
      handler: async (input) =>
        rawReply(
          200,
          'application/json',
          JSON.stringify(buildAsyncApi(endpoints, input.header('host') ?? 'localhost')),
        ),
    }),
  ];
}
