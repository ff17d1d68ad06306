import { newSpanId } from './trace-context.js';

/** OTLP span kinds used here: a request mnemo serves, work inside it, a call mnemo makes (Redis). */
export type SpanKind = 'server' | 'internal' | 'client';

export type AttributeValue = string | number | boolean;

/** What the exporter sends for one finished span (OTLP field names, times in ns since the epoch). */
export interface FinishedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: SpanKind;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  error: string | undefined;
}

/** Wall-clock nanoseconds from a monotonic clock anchored once (spans never run backwards). */
const ORIGIN_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export const nowNs = (): bigint => ORIGIN_NS + process.hrtime.bigint();

/**
 * One span in flight. Attributes never carry keys, tokens or memory content: callers pass route templates,
 * ids, counts and names only.
 */
export class Span {
  readonly spanId = newSpanId();
  private readonly startNs = nowNs();
  private readonly attributes: Record<string, AttributeValue> = {};
  private error: string | undefined;
  private ended = false;

  constructor(
    readonly traceId: string,
    private readonly parentSpanId: string | undefined,
    private name: string,
    private readonly kind: SpanKind,
    private readonly onEnd: (span: FinishedSpan) => void,
  ) {}

  rename(name: string): void {
    this.name = name;
  }

  set(key: string, value: AttributeValue | undefined): void {
    if (value !== undefined) this.attributes[key] = value;
  }

  fail(message: string): void {
    this.error = message;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd({
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name: this.name,
      kind: this.kind,
      startNs: this.startNs,
      endNs: nowNs(),
      attributes: this.attributes,
      error: this.error,
    });
  }
}
