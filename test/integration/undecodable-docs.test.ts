import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { layerTenant } from '../../src/tenant.js';
import { NO_LIMITS, Org, type TestUser } from '../helpers/engram.js';
import {
  createLayerKey,
  FILE_PREFIX,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';

/**
 * Documents that Redis's JSON decoder refuses (lone UTF-16 surrogates, nesting over 1,000 levels), written
 * straight into Redis as a server without the HTTP checks stored them, never break a later request: erasure,
 * deletion and supersession do all of their work, and engrams keep being recalled, injected and changed.
 */
let server: TestServer;
let redis: Redis;

beforeAll(async () => {
  server = await startServer({ ...NO_LIMITS });
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await redis.quit();
  await server.close();
});

const LONE = '\ud83d';
const deep = (depth: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { [`k\udfff${i % 2}`]: value };
  return value;
};

/** The docs HASH holding `id` as JSON (found by content, so the test does not depend on the key layout). */
async function docsKeyHolding(id: string): Promise<string> {
  for (const key of await redis.keys(`${FILE_PREFIX}*`)) {
    if ((await redis.type(key)) !== 'hash') continue;
    if ((await redis.hget(key, id))?.startsWith('{"')) return key;
  }
  throw new Error(`no hash holds ${id}`);
}

/** Rewrites a stored document as a writer before the fix could have stored it. */
async function corrupt(id: string, change: (doc: Record<string, unknown>) => void): Promise<void> {
  const key = await docsKeyHolding(id);
  const doc = JSON.parse((await redis.hget(key, id)) as string) as Record<string, unknown>;
  change(doc);
  await redis.hset(key, id, JSON.stringify(doc)); // JSON.stringify writes the lone surrogate as "\ud83d"
}

describe('layer memories stored with undecodable JSON', () => {
  it('supersession, deletion and erasure all do their whole work', async () => {
    const workspace = uniqueWorkspace('baddoc');
    const token = await createLayerKey(server, workspace, { rate_limit_rpm: 1_000_000 });
    const post = (path: string, body: unknown) => server.request('POST', path, { token, body });
    const stats = async () => (await server.request('GET', '/v1/stats', { token })).json;

    const first = await post('/v1/remember', { content: 'I live in Paris', user_id: 'v' });
    const factId = first.json.facts?.[0]?.id ?? first.json.fact_ids?.[0];
    expect(typeof factId).toBe('string');
    await corrupt(factId as string, (doc) => {
      doc.object = `Paris${LONE}`;
      doc.content = `I live in Paris${LONE}`;
    });
    await corrupt(first.json.episode_id as string, (doc) => {
      doc.metadata = { [`\udfff`]: deep(1000) };
    });
    const before = await stats();

    const second = await post('/v1/remember', { content: 'I live in Berlin', user_id: 'v' });
    expect(second.status).toBe(200);
    expect(JSON.stringify(second.json)).toContain(factId as string); // listed as superseded
    const after = await stats();
    // One working entry and one episode more; Berlin replaces Paris as the one current fact.
    expect([after.working, after.episodic, after.semantic]).toEqual([
      before.working + 1,
      before.episodic + 1,
      before.semantic,
    ]);
    const old = await server.request('GET', `/v1/memory/${factId as string}`, { token });
    expect(old.json.fact.status).toBe('superseded');

    const deleted = await server.request('DELETE', `/v1/memory/${first.json.episode_id as string}`, {
      token,
    });
    expect(deleted.status).toBeLessThan(300);
    expect(
      (await server.request('GET', `/v1/memory/${first.json.episode_id as string}`, { token })).status,
    ).toBe(404);

    const erased = await server.request('DELETE', '/v1/users/v', { token });
    expect(erased.status).toBe(200);
    expect((await server.request('GET', `/v1/memory/${factId as string}`, { token })).status).toBe(404);
    const recall = await post('/v1/recall', { query: 'where do I live', user_id: 'v', top_k: 50 });
    expect(recall.status).toBe(200);
    expect(recall.json.results).toEqual([]);
    const page = await server.services.events.read(layerTenant(workspace), '0-0', 1000);
    expect(page.events.map((e) => e.type)).toContain('memory.forgotten');
  });
});

describe('engrams stored with undecodable JSON', () => {
  let org: Org;
  let editor: TestUser;
  let admin: TestUser;
  let id: string;

  beforeAll(async () => {
    org = new Org(server, 'badeng');
    editor = await org.user('editor', 'editor');
    admin = await org.user('boss', 'admin');
    id = (await org.engram(editor, { statement: 'deploy deploy carefully', scope: 'global' })).id as string;
    await corrupt(id, (doc) => {
      doc.statement = `deploy deploy ${LONE}`;
      doc.content = doc.statement;
      doc.search_text = doc.statement;
    });
  });

  it('recall, inject and session start answer 200 with it among the results', async () => {
    expect((await org.as(editor, 'POST', '/api/v1/recall', { query: 'deploy' })).status).toBe(200);
    expect((await org.as(editor, 'POST', '/api/v1/inject', { task: 'deploy deploy' })).status).toBe(200);
    expect((await org.as(editor, 'POST', '/api/v1/sessions', { task: 'deploy deploy' })).status).toBe(201);
  });

  it('PATCH, feedback, pin and retire of it succeed', async () => {
    const patched = await org.as(editor, 'PATCH', `/api/v1/engrams/${id}`, { tags: ['ops'] });
    expect(patched.status).toBe(200);
    expect(
      (await org.as(editor, 'POST', `/api/v1/engrams/${id}/feedback`, { signal: 'positive' })).status,
    ).toBe(200);
    expect((await org.as(admin, 'POST', `/api/v1/engrams/${id}/pin`, {})).status).toBe(200);
    expect((await org.as(editor, 'DELETE', `/api/v1/engrams/${id}`)).status).toBeLessThan(300);
  });
});
