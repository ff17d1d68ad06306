import type { Counter, Histogram } from 'prom-client';

/** Latency buckets of HTTP requests and recalls, in seconds: sub-millisecond to a few seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface StatusChildren {
  count: { inc(): void };
  duration: { observe(value: number): void };
}

/**
 * The request counter and latency histogram of one route template and method. The children per status
 * are looked up once and kept by status number, so a request costs two map-free increments and no
 * string building (prom-client would otherwise hash the label values on every call).
 */
export class RouteMeter {
  private readonly byStatus = new Map<number, StatusChildren>();

  constructor(
    private readonly requests: Counter<'route' | 'method' | 'status'>,
    private readonly durations: Histogram<'route' | 'method' | 'status'>,
    /** The route template (`/v1/memory/:memory_id`), never the raw path: label values stay bounded. */
    readonly route: string,
    readonly method: string,
  ) {}

  observe(status: number, seconds: number): void {
    let children = this.byStatus.get(status);
    if (!children) {
      const labels = { route: this.route, method: this.method, status: String(status) };
      children = { count: this.requests.labels(labels), duration: this.durations.labels(labels) };
      this.byStatus.set(status, children);
    }
    children.count.inc();
    children.duration.observe(seconds);
  }
}
