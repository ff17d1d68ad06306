import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStubAi, type StubAi } from '../helpers/stub-ai.js';
import {
  ADMIN_KEY,
  createLayerKey,
  startServer,
  uniqueWorkspace,
  type TestResponse,
  type TestServer,
} from '../helpers/server.js';

/**
 * After a change of embedder the stored vectors no longer fit and recall falls back to BM25; an admin
 * re-embed job gives every document a vector of the new embedder, with progress to poll.
 */
let ai: StubAi;
let server: TestServer;
let workspace: string;
let key: string;
let documents: number;

beforeAll(async () => {
  ai = await startStubAi(16);
  // Written under the builtin embedder (128 dimensions)...
  const before = await startServer({ embedder: 'builtin' });
  workspace = uniqueWorkspace('reemb');
  key = await createLayerKey(before, workspace);
  for (const content of ['I prefer green tea', 'the deploy runs on fridays', 'orchids need humid air'])
    expect((await before.request('POST', '/v1/remember', { token: key, body: { content } })).status).toBe(
      200,
    );
  await before.close();
  // ...then served by one with a 16-dimension remote embedder.
  server = await startServer({
    embedder: 'openai',
    embeddingUrl: ai.url,
    embeddingModel: 'stub-embed',
    embeddingDim: 16,
    jobAttempts: 1,
    jobBackoffMs: 10,
  });
});
afterAll(async () => {
  await server.close();
  await ai.close();
});

async function indexFigures(): Promise<{ docs: number; vectors: number }> {
  await server.request('POST', '/v1/recall', { token: key, body: { query: 'tea' } }); // catches the index up
  const metrics = await server.request('GET', '/admin/metrics', { token: ADMIN_KEY });
  const entry = metrics.json.indexes.by_workspace.find(
    (w: { workspace: string }) => w.workspace === workspace,
  );
  return { docs: entry.docs, vectors: entry.vectors };
}

async function finished(jobId: string): Promise<TestResponse> {
  let last: TestResponse | undefined;
  await expect
    .poll(
      async () => {
        last = await server.request('GET', `/admin/jobs/${jobId}`, { token: ADMIN_KEY });
        return last.json.state;
      },
      { timeout: 15_000, interval: 50 },
    )
    .toMatch(/^(completed|failed)$/);
  return last as TestResponse;
}

describe('re-embedding a workspace', () => {
  it('embeds what has no usable vector, reports progress, and recall becomes hybrid again', async () => {
    const stale = await indexFigures();
    documents = stale.docs;
    expect(documents).toBeGreaterThanOrEqual(7); // 3 working entries, 3 episodes, the preference fact
    expect(stale).toEqual({ docs: documents, vectors: 0 }); // 128-d vectors are ignored
    const keyword = await server.request('POST', '/v1/recall', { token: key, body: { query: 'green tea' } });
    expect(keyword.json).toMatchObject({ mode: 'keyword', vector: false });

    const started = await server.request('POST', `/admin/workspaces/${workspace}/reembed`, {
      token: ADMIN_KEY,
      body: {},
    });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({
      kind: 'reembed',
      workspace_id: workspace,
      force: false,
      error: null,
    });
    expect(started.json.job_id).toMatch(/^reembed_[0-9a-f]{24}$/);

    const done = await finished(started.json.job_id);
    expect(done.json).toMatchObject({
      state: 'completed',
      progress: { total: documents, scanned: documents, embedded: documents },
      attempts: 1,
    });
    expect(Date.parse(done.json.finished_at)).toBeGreaterThanOrEqual(Date.parse(done.json.created_at));

    expect(await indexFigures()).toEqual({ docs: documents, vectors: documents });
    const hybrid = await server.request('POST', '/v1/recall', { token: key, body: { query: 'green tea' } });
    expect(hybrid.json).toMatchObject({ mode: 'hybrid', vector: true });
    expect(hybrid.json.results[0].content).toBe('I prefer green tea');
  });

  it('skips documents that already fit unless forced', async () => {
    const again = await server.request('POST', `/admin/workspaces/${workspace}/reembed`, {
      token: ADMIN_KEY,
    });
    expect((await finished(again.json.job_id)).json.progress).toEqual({
      total: documents,
      scanned: documents,
      embedded: 0,
    });
    const calls = ai.calls.embeddings;
    const forced = await server.request('POST', `/admin/workspaces/${workspace}/reembed`, {
      token: ADMIN_KEY,
      body: { force: true },
    });
    expect(forced.json.force).toBe(true);
    expect((await finished(forced.json.job_id)).json.progress.embedded).toBe(documents);
    expect(ai.calls.embeddings).toBeGreaterThan(calls);
  });

  it('reports a failed run with its error, and the vectors stay as they were', async () => {
    ai.embedFails = true;
    try {
      const job = await server.request('POST', `/admin/workspaces/${workspace}/reembed`, {
        token: ADMIN_KEY,
        body: { force: true },
      });
      const failed = await finished(job.json.job_id);
      expect(failed.json.state).toBe('failed');
      expect(failed.json.error).toEqual(expect.any(String));
      expect(failed.json.progress.embedded).toBe(0);
    } finally {
      ai.embedFails = false;
    }
    expect(await indexFigures()).toEqual({ docs: documents, vectors: documents });
  });

  it('treats an empty or unknown workspace as nothing to do', async () => {
    const empty = await server.request('POST', `/admin/workspaces/${uniqueWorkspace('none')}/reembed`, {
      token: ADMIN_KEY,
    });
    expect(empty.status).toBe(202);
    expect((await finished(empty.json.job_id)).json).toMatchObject({
      state: 'completed',
      progress: { total: 0, scanned: 0, embedded: 0 },
    });
  });

  it('refuses bad input and other credentials in the layer error shape', async () => {
    const path = `/admin/workspaces/${workspace}/reembed`;
    for (const token of [undefined, key, 'plm_live_' + '0'.repeat(48)]) {
      const res = await server.request('POST', path, { token, body: {} });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ detail: expect.any(String), status: 401 });
      expect((await server.request('GET', '/admin/jobs/reembed_x', { token })).status).toBe(401);
    }
    const badForce = await server.request('POST', path, { token: ADMIN_KEY, body: { force: 'yes' } });
    expect(badForce.status).toBe(400);
    expect(badForce.json).toEqual({ detail: expect.stringMatching(/force/), status: 400 });
    const badWorkspace = await server.request('POST', '/admin/workspaces/bad%20id!/reembed', {
      token: ADMIN_KEY,
    });
    expect(badWorkspace.status).toBe(400);
    const notJson = await server.request('POST', path, { token: ADMIN_KEY, rawBody: '{force' });
    expect(notJson.status).toBe(400);
    const unknown = await server.request('GET', '/admin/jobs/reembed_000000000000000000000000', {
      token: ADMIN_KEY,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ detail: expect.stringMatching(/No job/), status: 404 });
    const badId = await server.request('GET', `/admin/jobs/${'x'.repeat(65)}`, { token: ADMIN_KEY });
    expect(badId.status).toBe(400);
  });
});
