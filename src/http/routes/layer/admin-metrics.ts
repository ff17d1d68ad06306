import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import { defineRoute } from '../../route.js';

/** GET /admin/metrics: process memory and this instance's search indexes (admin key only). */
export function adminMetricsRoutes(services: Services) {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/metrics',
      face: 'layer',
      auth: 'admin',
      summary: "This instance's memory use and search indexes.",
      tags: ['admin'],
      schema: {
        response: {
          200: Type.Object({
            uptime_seconds: Type.Number(),
            rss_bytes: Type.Integer(),
            heap_used_bytes: Type.Integer(),
            external_bytes: Type.Integer(),
            indexes: Type.Object({
              workspaces: Type.Integer(),
              bytes: Type.Integer(),
              rebuilds: Type.Integer({
                description: 'Indexes rebuilt because the event stream was trimmed past them.',
              }),
              by_workspace: Type.Array(
                Type.Object({
                  workspace: Type.String(),
                  docs: Type.Integer(),
                  vectors: Type.Integer(),
                  partitioned: Type.Boolean({
                    description:
                      'Recall scans the vector partitions nearest to the query only (MNEMO_VECTOR_PARTITION_MIN).',
                  }),
                  bytes: Type.Integer(),
                }),
              ),
            }),
          }),
        },
      },
      handler: async () => {
        const memory = process.memoryUsage();
        const usage = services.recall.indexUsage();
        return {
          uptime_seconds: Math.round((Date.now() - services.startedAt) / 100) / 10,
          rss_bytes: memory.rss,
          heap_used_bytes: memory.heapUsed,
          external_bytes: memory.external + memory.arrayBuffers,
          indexes: { ...usage, by_workspace: services.recall.indexDetails().slice(0, 100) },
        };
      },
    }),
  ];
}
