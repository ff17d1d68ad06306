import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from './http-meter.js';

/** How one webhook delivery attempt ended. */
export type WebhookOutcome = 'delivered' | 'failed' | 'retrying' | 'refused';

/**
 * The registration point for webhook delivery metrics: the webhook dispatcher receives this object (as
 * `metrics.webhooks`) and calls `delivered` once per delivery attempt. The metric names exist from the
 * start so dashboards and the README list them whether or not webhooks are configured.
 */
export class WebhookMetrics {
  private readonly deliveries: Counter<'outcome'>;
  private readonly durations: Histogram<'outcome'>;

  constructor(registry: Registry) {
    this.deliveries = new Counter({
      name: 'mnemo_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, failed, retrying, refused).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.durations = new Histogram({
      name: 'mnemo_webhook_delivery_duration_seconds',
      help: 'Time from sending a webhook delivery to its answer (or failure), by outcome.',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** One delivery attempt ended with `outcome` after `seconds`. */
  delivered(outcome: WebhookOutcome, seconds: number): void {
    this.deliveries.inc({ outcome });
    this.durations.observe({ outcome }, seconds);
  }
}
