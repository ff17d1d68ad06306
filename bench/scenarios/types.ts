import type { LoadResult } from '../lib/load.js';

/** What a scenario gets from the runner: where to send load and how to record what it measured. */
export interface ScenarioContext {
  url: string;
  run: string;
  quick: boolean;
  c1Requests: number;
  durationMs: number;
  record: (name: string, concurrency: number, result: LoadResult) => void;
  figures: Record<string, number | string>;
}
