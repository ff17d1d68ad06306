import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import { VERSION } from '../../../version.js';
import { defineRoute, reply } from '../../route.js';
import { StringEnum } from '../../schemas.js';

const Health = Type.Object({
  status: StringEnum(['ok', 'degraded']),
  version: Type.String(),
  env: Type.String(),
  uptime_seconds: Type.Number(),
  database: StringEnum(['ok', 'error']),
  vectors: StringEnum(['ok', 'degraded', 'error']),
  store: Type.String({ description: 'System of record (the reference server reports its store here).' }),
});

export function healthRoutes(services: Services) {
  return [
    defineRoute({
      method: 'GET',
      path: '/health',
      face: 'layer',
      auth: 'none',
      summary: 'Service health: 200 when Redis answers, 503 with status "degraded" when it does not.',
      tags: ['health'],
      schema: { response: { 200: Health, 503: Health } },
      handler: async () => {
        const database: 'ok' | 'error' = (await services.redisHealth.ok()) ? 'ok' : 'error';
        const body = {
          status: database === 'ok' ? ('ok' as const) : ('degraded' as const),
          version: VERSION,
          env: services.config.env,
          uptime_seconds: Math.round((Date.now() - services.startedAt) / 100) / 10,
          database,
          vectors: 'ok' as const,
          store: 'redis',
        };
        return reply(database === 'ok' ? 200 : 503, body);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/',
      face: 'layer',
      auth: 'none',
      summary: 'Service information.',
      tags: ['health'],
      schema: {
        response: {
          200: Type.Object({
            name: Type.String(),
            version: Type.String(),
            openapi: Type.String(),
            asyncapi: Type.String({ description: 'The AsyncAPI document of the event streams.' }),
            health: Type.String(),
          }),
        },
      },
      handler: async () => ({
        name: 'mnemo',
        version: VERSION,
        openapi: '/openapi.json',
        asyncapi: '/asyncapi.json',
        health: '/health',
      }),
    }),
  ];
}
