/**
 * What the HTTP core reports to metrics. The transport knows nothing of Prometheus: the composition root
 * hands it an implementation (src/metrics/metrics.ts), tests and tools may hand it nothing.
 */
export interface RequestMeter {
  observe(status: number, seconds: number): void;
}

export interface HttpMetricsSink {
  /** Made once per route template and method (the template, never the raw path). */
  routeMeter(route: string, method: string): RequestMeter;
  rateLimitRejected(face: string): void;
  redisUnavailableAnswered(): void;
}

export const NO_HTTP_METRICS: HttpMetricsSink = {
  routeMeter: () => ({ observe: () => undefined }),
  rateLimitRejected: () => undefined,
  redisUnavailableAnswered: () => undefined,
};

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A method as a label value: any other word a client sends is OTHER, so the label set stays bounded. */
export const methodLabel = (method: string): string => (KNOWN_METHODS.has(method) ? method : 'OTHER');

/** Label of requests that matched no route: their raw paths are never label values. */
export const UNMATCHED_ROUTE = '(unmatched)';
