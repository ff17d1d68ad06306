import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import type { AttributeValue, FinishedSpan, SpanKind } from './span.js';

/**
 * Sends finished spans to an OpenTelemetry collector over OTLP/HTTP with the JSON encoding
 * (`POST <endpoint>/v1/traces`), in batches: every `flushMs`, or as soon as `batchSize` spans wait. The
 * queue is bounded; spans over it are dropped and counted, never allowed to grow memory or slow requests.
 * A collector that is down costs one failed POST per batch (logged at most once a minute).
 */
export interface OtlpExporterOptions {
  endpoint: string;
  serviceName: string;
  flushMs?: number;
  batchSize?: number;
  maxQueue?: number;
  timeoutMs?: number;
}

const KIND: Record<SpanKind, number> = { internal: 1, server: 2, client: 3 };
const STATUS_OK = 1;
const STATUS_ERROR = 2;
const WARN_EVERY_MS = 60_000;

export class OtlpExporter {
  private queue: FinishedSpan[] = [];
  private readonly timer: NodeJS.Timeout;
  private inFlight: Promise<void> | undefined;
  private lastWarning = 0;
  /** Spans dropped because the queue was full. */
  dropped = 0;
  private readonly url: string;
  private readonly batchSize: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly options: OtlpExporterOptions,
    private readonly log: Logger,
  ) {
    this.url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
    this.batchSize = options.batchSize ?? 512;
    this.maxQueue = options.maxQueue ?? 4096;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 1000);
    this.timer.unref();
  }

  export(span: FinishedSpan): void {
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.batchSize) void this.flush();
  }

  /** Sends what waits (one POST at a time); resolves when it is sent or refused. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.batchSize);
    this.inFlight = this.post(batch).finally(() => (this.inFlight = undefined));
    await this.inFlight;
    if (this.queue.length >= this.batchSize) await this.flush();
  }

  /** Sends everything left and stops the timer (shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    while (this.queue.length > 0 || this.inFlight) await this.flush();
  }

  private async post(batch: FinishedSpan[]): Promise<void> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(this.payload(batch)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer();
      if (!res.ok) this.warn(`the collector answered ${res.status}`, batch.length);
    } catch (err) {
      this.warn(err instanceof Error ? err.message : String(err), batch.length);
    }
  }

  private warn(reason: string, spans: number): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.log.warn({ reason, spans, url: this.url }, 'could not export traces (dropped)');
  }

  private payload(batch: FinishedSpan[]) {
    return {
      resourceSpans: [
        {
          resource: { attributes: attributesOf({ 'service.name': this.options.serviceName }) },
          scopeSpans: [
            {
              scope: { name: 'mnemo', version: VERSION },
              spans: batch.map((span) => ({
                traceId: span.traceId,
                spanId: span.spanId,
                ...(span.parentSpanId === undefined ? {} : { parentSpanId: span.parentSpanId }),
                name: span.name,
                kind: KIND[span.kind],
                startTimeUnixNano: span.startNs.toString(),
                endTimeUnixNano: span.endNs.toString(),
                attributes: attributesOf(span.attributes),
                status:
                  span.error === undefined
                    ? { code: STATUS_OK }
                    : { code: STATUS_ERROR, message: span.error },
              })),
            },
          ],
        },
      ],
    };
  }
}

function attributesOf(values: Record<string, AttributeValue>) {
  return Object.entries(values).map(([key, value]) => ({
    key,
    value:
      typeof value === 'string'
        ? { stringValue: value }
        : typeof value === 'boolean'
          ? { boolValue: value }
          : Number.isInteger(value)
            ? { intValue: String(value) }
            : { doubleValue: value },
  }));
}
