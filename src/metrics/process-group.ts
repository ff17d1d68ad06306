import type { ChildProcess } from 'node:child_process';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** One process's figures, as Registry#getMetricsAsJSON gives them. */
type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
import { randomHex } from '../ids.js';

/**
 * /metrics across a MNEMO_PROCESSES group. A scrape reaches one process (the kernel picks it), so that
 * process asks the supervisor, over the IPC channel every server process has, for the group's figures;
 * the supervisor asks each process for its metrics as JSON and merges them with prom-client's
 * AggregatorRegistry: counters and histograms are summed, gauges summed unless their `aggregator` says
 * otherwise (queue depth: max, hit ratio: average, redis up: min). A process that does not answer in time
 * is left out rather than failing the scrape; `mnemo_processes` says how many answered.
 */
const REQUEST = 'mnemo:metrics:request';
const COLLECT = 'mnemo:metrics:collect';
const REPORT = 'mnemo:metrics:report';
const AGGREGATE = 'mnemo:metrics:aggregate';

/** How long the supervisor waits for each process's figures, and a process for the merged answer. */
const GATHER_TIMEOUT_MS = 2000;
const ANSWER_TIMEOUT_MS = 5000;

interface Message {
  type?: string;
  id?: string;
  metrics?: MetricsJson;
  text?: string;
}

/**
 * In a server process of a group: answers the supervisor's collection requests from `registry`, and
 * returns the function /metrics calls (the group's text, or this process's own when the supervisor does
 * not answer).
 */
export function groupMetrics(registry: Registry): () => Promise<string> {
  const send = process.send?.bind(process);
  if (!send) return () => registry.metrics();
  const waiting = new Map<string, (text: string) => void>();
  process.on('message', (message: Message) => {
    if (message.type === COLLECT && message.id) {
      const id = message.id;
      void registry
        .getMetricsAsJSON()
        .then((metrics) => process.connected && send({ type: REPORT, id, metrics }))
        .catch(() => undefined);
    } else if (message.type === AGGREGATE && message.id && typeof message.text === 'string') {
      waiting.get(message.id)?.(message.text);
    }
  });
  return () =>
    new Promise<string>((resolve) => {
      const id = randomHex(8);
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(registry.metrics());
      }, ANSWER_TIMEOUT_MS);
      waiting.set(id, (text) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(text);
      });
      if (!process.connected || !send({ type: REQUEST, id })) {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(registry.metrics());
      }
    });
}

/** In the supervisor: merges the figures of every server process when one of them asks. */
export class MetricsGatherer {
  private readonly pending = new Map<
    string,
    { reports: MetricsJson[]; expected: number; done: () => void }
  >();

  constructor(private readonly children: () => Iterable<ChildProcess>) {}

  /** Handles the metrics messages of one server process (call once per forked child). */
  attach(child: ChildProcess): void {
    child.on('message', (message: Message) => {
      if (message.type === REQUEST && message.id) void this.answer(child, message.id);
      else if (message.type === REPORT && message.id && Array.isArray(message.metrics)) {
        const gathering = this.pending.get(message.id);
        if (!gathering) return;
        gathering.reports.push(message.metrics);
        if (gathering.reports.length >= gathering.expected) gathering.done();
      }
    });
  }

  private async answer(asker: ChildProcess, requestId: string): Promise<void> {
    const id = randomHex(8);
    const targets = [...this.children()].filter((child) => child.connected);
    const reports: MetricsJson[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.pending.set(id, { reports, expected: targets.length, done });
      for (const child of targets) child.send({ type: COLLECT, id });
      if (targets.length === 0) done();
    });
    this.pending.delete(id);
    const text = await AggregatorRegistry.aggregate(reports).metrics();
    if (asker.connected) asker.send({ type: AGGREGATE, id: requestId, text });
  }
}
