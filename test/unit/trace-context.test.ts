import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { formatTraceParent, parseTraceParent } from '../../src/tracing/trace-context.js';

describe('W3C traceparent', () => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const span = '00f067aa0ba902b7';

  it('reads the trace, the parent span and the sampled flag', () => {
    expect(parseTraceParent(`00-${trace}-${span}-01`)).toEqual({
      traceId: trace,
      spanId: span,
      sampled: true,
    });
    expect(parseTraceParent(`00-${trace}-${span}-00`)?.sampled).toBe(false);
    expect(parseTraceParent(` 00-${trace.toUpperCase()}-${span}-03 `)?.traceId).toBe(trace);
    expect(formatTraceParent(trace, span)).toBe(`00-${trace}-${span}-01`);
  });

  it('starts a new trace for anything malformed or forbidden', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `00-${trace}-${span}`,
      `00-${trace.slice(1)}-${span}-01`,
      `00-${'0'.repeat(32)}-${span}-01`,
      `00-${trace}-${'0'.repeat(16)}-01`,
      `ff-${trace}-${span}-01`,
      `00-${trace}-${span}-zz`,
    ])
      expect(parseTraceParent(bad), String(bad)).toBeUndefined();
  });
});

describe('tracing configuration', () => {
  it('is off by default and takes an http(s) collector, a service name and a ratio', () => {
    const defaults = loadConfig({});
    expect(defaults.otelEndpoint).toBeUndefined();
    expect(defaults.otelServiceName).toBe('mnemo');
    expect(defaults.otelSampleRatio).toBe(1);
    const set = loadConfig({ MNEMO_OTEL_ENDPOINT: 'http://127.0.0.1:4318', MNEMO_OTEL_SAMPLE_RATIO: '0.25' });
    expect(set.otelEndpoint).toBe('http://127.0.0.1:4318');
    expect(set.otelSampleRatio).toBe(0.25);
  });

  it('refuses a collector that is not an http(s) URL and a ratio outside 0..1', () => {
    expect(() => loadConfig({ MNEMO_OTEL_ENDPOINT: 'ftp://collector' })).toThrow(/MNEMO_OTEL_ENDPOINT/);
    expect(() => loadConfig({ MNEMO_OTEL_ENDPOINT: 'not a url' })).toThrow(/MNEMO_OTEL_ENDPOINT/);
    expect(() => loadConfig({ MNEMO_OTEL_SAMPLE_RATIO: '1.5' })).toThrow(/MNEMO_OTEL_SAMPLE_RATIO/);
  });
});
