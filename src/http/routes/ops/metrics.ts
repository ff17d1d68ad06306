import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import { defineRoute, rawReply } from '../../route.js';

/** The Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * GET /metrics in the Prometheus text format. Readable with the metrics token (MNEMO_METRICS_TOKEN) or
 * the admin key, or by anyone with MNEMO_METRICS_PUBLIC=true. In a MNEMO_PROCESSES group the answer
 * aggregates every process of the group (src/metrics/process-group.ts), whichever process is asked.
 */
export function metricsRoutes(services: Services) {
  return [
    defineRoute({
      method: 'GET',
      path: '/metrics',
      face: 'layer',
      auth: 'metrics',
      produces: PROMETHEUS_CONTENT_TYPE,
      summary: 'Prometheus metrics of this instance (of every process of a MNEMO_PROCESSES group).',
      description:
        'Bearer: the metrics token (MNEMO_METRICS_TOKEN) or the admin key; no credential with MNEMO_METRICS_PUBLIC=true. Every metric name is listed in the README.',
      tags: ['health'],
      schema: { response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4.' }) } },
      handler: async () => rawReply(200, PROMETHEUS_CONTENT_TYPE, await services.metricsText()),
    }),
  ];
}
