import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuiltinEmbedder } from '../../src/memory/embedders/builtin.js';
import { OfflineEmbedder } from '../../src/memory/embedders/offline.js';
import { QueryEmbedder } from '../../src/memory/embedders/query-embedder.js';
import type { Embedder } from '../../src/memory/embedders/embedder.js';

const dot = (a: Float32Array, b: Float32Array): number =>
  a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);
const norm = (a: Float32Array): number => Math.sqrt(dot(a, a));

describe('builtin embedder', () => {
  const embedder = new BuiltinEmbedder();

  it('is deterministic and unit length', async () => {
    const [a, b] = await embedder.embed([
      'Deploys must run migrations first',
      'Deploys must run migrations first',
    ]);
    expect(a).toEqual(b);
    expect(norm(a!)).toBeCloseTo(1, 5);
    expect(a).toHaveLength(128);
  });

  it('puts texts sharing words and word parts closer than unrelated ones', () => {
    const deploy = embedder.embedOne('deploy the service');
    expect(dot(deploy, embedder.embedOne('deployment of services'))).toBeGreaterThan(
      dot(deploy, embedder.embedOne('my cat sleeps all day')) + 0.3,
    );
  });

  it('embeds text without searchable words to the zero vector', () => {
    expect(norm(embedder.embedOne('the and of !!!'))).toBe(0);
  });
});

describe('offline semantic embedder (USE-lite in a worker thread)', () => {
  let embedder: OfflineEmbedder;
  beforeAll(async () => {
    embedder = await OfflineEmbedder.start();
  }, 60_000);
  afterAll(async () => {
    await embedder.close();
  });

  it('embeds meaning: paraphrases are closer than unrelated sentences', async () => {
    const [a, b, c] = await embedder.embed([
      'I prefer asynchronous Python web frameworks',
      'The user likes async Python libraries for web servers',
      'My grandmother grows tomatoes in her garden',
    ]);
    expect(a).toHaveLength(512);
    expect(norm(a!)).toBeCloseTo(1, 3);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.2);
  });
});

describe('query embedder', () => {
  it('caches query vectors', async () => {
    let calls = 0;
    const counting: Embedder = {
      name: 'count',
      dim: 2,
      inline: true,
      noiseFloor: 0,
      vectorWeight: 0.5,
      embed: async (texts) => {
        calls++;
        return texts.map(() => new Float32Array([1, 0]));
      },
      close: async () => undefined,
    };
    const queries = new QueryEmbedder(counting);
    await queries.embed('hello', 100);
    await queries.embed('hello', 100);
    expect(calls).toBe(1);
  });

  it('reports a timeout without failing, and fills the cache when the slow call finishes', async () => {
    let release: () => void = () => undefined;
    const slow: Embedder = {
      name: 'slow',
      dim: 2,
      inline: false,
      noiseFloor: 0,
      vectorWeight: 0.5,
      embed: (texts) =>
        new Promise((resolve) => {
          release = () => resolve(texts.map(() => new Float32Array([0, 1])));
        }),
      close: async () => undefined,
    };
    const queries = new QueryEmbedder(slow);
    const first = await queries.embed('q', 10);
    expect(first).toMatchObject({ degraded: true, reason: 'timeout' });
    release();
    await new Promise((r) => setTimeout(r, 0));
    const second = await queries.embed('q', 10);
    expect(second).toMatchObject({ degraded: false });
  });

  it('reports an embedder error as degraded', async () => {
    const broken: Embedder = {
      name: 'broken',
      dim: 2,
      inline: false,
      noiseFloor: 0,
      vectorWeight: 0.5,
      embed: async () => {
        throw new Error('endpoint down');
      },
      close: async () => undefined,
    };
    expect(await new QueryEmbedder(broken).embed('q', 100)).toMatchObject({
      degraded: true,
      reason: 'error',
      detail: 'endpoint down',
    });
  });
});
