import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../log.js';
import { OtlpExporter } from './otlp-exporter.js';
import { Span, type AttributeValue, type SpanKind } from './span.js';
import { newTraceId, parseTraceParent } from './trace-context.js';

export interface TracingSettings {
  /** OTLP/HTTP base URL of a collector (`http://collector:4318`); undefined: tracing is off. */
  endpoint: string | undefined;
  serviceName: string;
  /** Share of new traces recorded (0..1); a caller's `traceparent` decides for the traces it starts. */
  sampleRatio: number;
}

/**
 * OpenTelemetry traces of requests (MNEMO_OTEL_ENDPOINT): a server span per HTTP request, joined to the
 * caller's trace when it sends `traceparent`, with child spans for authentication, the search and each Lua
 * script run against Redis. The current span travels in an AsyncLocalStorage, so domain code opens child
 * spans without being handed one. Off (the default), nothing is entered and every call is a plain function
 * call: the hot path pays one `getStore()` per instrumented step.
 */
export class Tracing {
  private exporter: OtlpExporter | undefined;
  private sampleRatio = 1;
  private readonly current = new AsyncLocalStorage<Span>();

  get enabled(): boolean {
    return this.exporter !== undefined;
  }

  /** True inside a sampled request: callers on hot paths check it before building span attributes. */
  get recording(): boolean {
    return this.exporter !== undefined && this.current.getStore() !== undefined;
  }

  configure(settings: TracingSettings, log: Logger): void {
    if (settings.endpoint === undefined) return;
    this.sampleRatio = settings.sampleRatio;
    this.exporter = new OtlpExporter({ endpoint: settings.endpoint, serviceName: settings.serviceName }, log);
  }

  /** Sends the spans still queued (shutdown). */
  async close(): Promise<void> {
    const exporter = this.exporter;
    this.exporter = undefined;
    await exporter?.close();
  }

  /** The span of an incoming request, or undefined when tracing is off or this trace is not sampled. */
  startRequest(name: string, traceparent: string | undefined): Span | undefined {
    const exporter = this.exporter;
    if (!exporter) return undefined;
    const parent = parseTraceParent(traceparent);
    if (parent ? !parent.sampled : Math.random() >= this.sampleRatio) return undefined;
    return new Span(parent?.traceId ?? newTraceId(), parent?.spanId, name, 'server', (s) =>
      exporter.export(s),
    );
  }

  /** Runs `work` with `span` as the current span (its children attach to it). */
  within<T>(span: Span | undefined, work: () => T): T {
    return span === undefined ? work() : this.current.run(span, work);
  }

  /**
   * Runs `work` in a child span of the current one, ended when it settles (an exception marks it failed);
   * without a current span, just runs it.
   */
  async child<T>(
    name: string,
    kind: SpanKind,
    attributes: Record<string, AttributeValue | undefined>,
    work: () => Promise<T>,
  ): Promise<T> {
    const parent = this.current.getStore();
    const exporter = this.exporter;
    if (parent === undefined || exporter === undefined) return work();
    const span = new Span(parent.traceId, parent.spanId, name, kind, (s) => exporter.export(s));
    for (const [key, value] of Object.entries(attributes)) span.set(key, value);
    try {
      return await this.current.run(span, work);
    } catch (err) {
      span.fail(err instanceof Error ? err.name : 'error');
      throw err;
    } finally {
      span.end();
    }
  }
}

/** Tracing that is never configured: the default of every constructor that can trace. */
export const TRACING_OFF = new Tracing();
