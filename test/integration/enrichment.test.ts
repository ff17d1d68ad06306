import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStubAi, type StubAi } from '../helpers/stub-ai.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { layerTenant } from '../../src/tenant.js';

/** Slow embedders and the LLM extractor run as BullMQ jobs; their results and failures arrive as events. */
let ai: StubAi;
let server: TestServer;

beforeAll(async () => {
  ai = await startStubAi(16);
  server = await startServer({
    embedder: 'openai',
    embeddingUrl: ai.url,
    embeddingModel: 'stub-embed',
    embeddingDim: 16,
    embedTimeoutMs: 200,
    extractorUrl: ai.url,
    extractorModel: 'stub-chat',
    jobAttempts: 2,
    jobBackoffMs: 10,
  });
});
afterAll(async () => {
  await server.close();
  await ai.close();
});

const eventTypes = async (workspace: string): Promise<string[]> =>
  (await server.services.events.read(layerTenant(workspace), '0-0', 1000)).events.map((e) => e.type);

async function workspaceWithKey(): Promise<[string, string]> {
  const workspace = uniqueWorkspace('enr');
  return [workspace, await createLayerKey(server, workspace)];
}

describe('remote embedder (background job)', () => {
  it('acknowledges at once, finds the memory by BM25, then by vector once embedded', async () => {
    ai.chatAnswer = () => '{"facts":[]}';
    const [workspace, key] = await workspaceWithKey();
    const res = await server.request('POST', '/v1/remember', {
      token: key,
      body: { content: 'orchids need humid air' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ facts_queued: true, llm_extraction_queued: true });
    await expect.poll(() => eventTypes(workspace), { timeout: 10_000 }).toContain('memory.embedded');
    const recall = await server.request('POST', '/v1/recall', {
      token: key,
      body: { query: 'orchids humid' },
    });
    expect(recall.json).toMatchObject({ mode: 'hybrid', vector: true, degraded_reason: null });
    expect(recall.json.results.length).toBeGreaterThan(0);
  });

  it('degrades to BM25 and says so when the query embedding misses its budget', async () => {
    const [workspace, key] = await workspaceWithKey();
    await server.request('POST', '/v1/remember', { token: key, body: { content: 'tulips bloom in spring' } });
    await expect.poll(() => eventTypes(workspace), { timeout: 10_000 }).toContain('memory.embedded');
    ai.embedDelayMs = 1000;
    try {
      const res = await server.request('POST', '/v1/recall', {
        token: key,
        body: { query: 'tulips spring bloom' },
      });
      expect(res.json).toMatchObject({ mode: 'hybrid-degraded', vector: false });
      expect(res.json.degraded_reason).toMatch(/200 ms/);
      expect(res.json.results.map((r: { content: string }) => r.content)).toContain('tulips bloom in spring');
    } finally {
      ai.embedDelayMs = 0;
    }
  });

  it('records an embedding failure as an event and in stats after the last attempt', async () => {
    const [workspace, key] = await workspaceWithKey();
    ai.embedFails = true;
    try {
      await server.request('POST', '/v1/remember', { token: key, body: { content: 'cactus in the desert' } });
      await expect
        .poll(() => eventTypes(workspace), { timeout: 10_000 })
        .toContain('memory.embedding_failed');
    } finally {
      ai.embedFails = false;
    }
    const stats = await server.request('GET', '/v1/stats', { token: key });
    expect(stats.json.embedding_failures).toBe(1);
    // The memory is still found by BM25.
    const recall = await server.request('POST', '/v1/recall', {
      token: key,
      body: { query: 'cactus desert' },
    });
    expect(recall.json.results.length).toBeGreaterThan(0);
  });
});

describe('LLM fact extraction (background job)', () => {
  it('stores the facts the model finds, deduplicated like rule facts', async () => {
    ai.chatAnswer = () =>
      JSON.stringify({
        facts: [{ subject: 'user', predicate: 'works_at', object: 'Umbrella Corp', confidence: 0.9 }],
      });
    const [workspace, key] = await workspaceWithKey();
    const res = await server.request('POST', '/v1/remember', {
      token: key,
      body: { content: 'Been with Umbrella for three years now', user_id: 'leon' },
    });
    expect(res.json.facts).toEqual([]); // the rules found nothing
    expect(res.json).toMatchObject({ facts_queued: true, llm_extraction_queued: true });
    await expect.poll(() => eventTypes(workspace), { timeout: 10_000 }).toContain('memory.fact.added');
    const recall = await server.request('POST', '/v1/recall', {
      token: key,
      body: {
        query: 'which company does leon work at',
        layers: ['semantic'],
        include: ['namespace', 'fact'],
      },
    });
    expect(recall.json.results[0]).toMatchObject({
      content: 'user works_at Umbrella Corp',
      user_id: 'leon',
      fact: { extractor: 'llm', source_episode_id: res.json.episode_id },
    });
  });

  it('records an extraction failure as an event after its retries, never silently', async () => {
    const [workspace, key] = await workspaceWithKey();
    ai.chatFails = true;
    const before = ai.calls.chat;
    try {
      const res = await server.request('POST', '/v1/remember', {
        token: key,
        body: { content: 'some text', user_id: 'ada' },
      });
      await expect
        .poll(() => eventTypes(workspace), { timeout: 10_000 })
        .toContain('facts.extraction_failed');
      const failed = (await server.services.events.read(layerTenant(workspace), '0-0', 100)).events.find(
        (e) => e.type === 'facts.extraction_failed',
      );
      expect(JSON.parse(failed!.json).data).toMatchObject({
        episode_id: res.json.episode_id,
        user_id: 'ada',
        attempts: 2,
        error: expect.stringMatching(/500/),
      });
    } finally {
      ai.chatFails = false;
    }
    expect(ai.calls.chat - before).toBe(2);
    expect((await server.request('GET', '/v1/stats', { token: key })).json.extraction_failures).toBe(1);
  });
});
