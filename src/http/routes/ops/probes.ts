import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import { defineRoute, reply } from '../../route.js';

const Check = Type.String({ description: '"ok", or what is wrong.' });

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({
    redis: Check,
    scripts: Check,
    shutdown: Check,
  }),
});

/**
 * Kubernetes-style probes. /livez answers as long as the process serves HTTP (restart it when it does
 * not); /readyz answers 503 while Redis is unreachable, its Lua scripts cannot be loaded, or the instance
 * is shutting down (take it out of the load balancer). Both answer during shutdown's drain.
 */
export function probeRoutes(services: Services) {
  return [
    defineRoute({
      method: 'GET',
      path: '/livez',
      face: 'layer',
      auth: 'none',
      duringShutdown: true,
      summary: 'Liveness: 200 while the process runs and serves HTTP (Redis is not consulted).',
      tags: ['health'],
      schema: { response: { 200: Type.Object({ status: Type.Literal('alive') }) } },
      handler: async () => ({ status: 'alive' as const }),
    }),
    defineRoute({
      method: 'GET',
      path: '/readyz',
      face: 'layer',
      auth: 'none',
      duringShutdown: true,
      summary:
        'Readiness: 200 when Redis answers, holds the Lua scripts and the instance is not shutting down; 503 naming what is not ready otherwise.',
      tags: ['health'],
      schema: { response: { 200: Readiness, 503: Readiness } },
      handler: async () => {
        const report = await services.readiness.check();
        const body = {
          status: report.ready ? ('ready' as const) : ('not ready' as const),
          checks: report.checks,
        };
        return report.ready ? reply(200, body) : reply(503, body);
      },
    }),
  ];
}
