import { expect } from 'vitest';

/** The fields of the Plyra SDK's `RankedMemory` (pydantic, `extra="forbid"`), all of them required here. */
export const RANKED_MEMORY_KEYS = [
  'id',
  'layer',
  'content',
  'score',
  'similarity',
  'recency',
  'importance',
  'created_at',
  'source_id',
  'metadata',
];

/** What the SDK's strict pydantic model checks of a recall result: exactly these keys, each of the model's type and range. */
export function expectStrictRankedMemory(r: Record<string, unknown>): void {
  expect(Object.keys(r).sort()).toEqual([...RANKED_MEMORY_KEYS].sort());
  expect(r.id).toEqual(expect.stringMatching(/^.+$/));
  expect(['working', 'episodic', 'semantic']).toContain(r.layer);
  expect(typeof r.content).toBe('string');
  for (const field of ['score', 'similarity', 'recency', 'importance']) {
    expect(typeof r[field]).toBe('number');
    expect(r[field]).toBeGreaterThanOrEqual(0);
    expect(r[field]).toBeLessThanOrEqual(1);
  }
  // An ISO 8601 date-time with a zone, which pydantic's datetime parses.
  expect(r.created_at).toEqual(
    expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/),
  );
  expect(Number.isNaN(Date.parse(r.created_at as string))).toBe(false);
  // source_id is required and a string: the memory's own id, as the reference engine sends it.
  expect(r.source_id).toBe(r.id);
  expect(typeof r.source_id === 'string' && r.source_id.length > 0).toBe(true);
  expect(r.metadata !== null && typeof r.metadata === 'object' && !Array.isArray(r.metadata)).toBe(true);
}
