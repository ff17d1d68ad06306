import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Keys } from '../../src/redis/keys.js';
import { layerTenant, orgTenant, type Tenant } from '../../src/tenant.js';
import type { IndexManager } from '../../src/memory/search/index-manager.js';
import type { WorkspaceIndex } from '../../src/memory/search/workspace-index.js';
import { NO_LIMITS, Org } from '../helpers/engram.js';
import {
  createLayerKey,
  FILE_PREFIX,
  startServer,
  uniqueWorkspace,
  type TestServer,
} from '../helpers/server.js';

/**
 * Events carry what their consumers need, and nothing internal: a warm index that applies every event type
 * holds, document by document, what an index built fresh from Redis holds; and no event's data carries the
 * fields that exist only for the server's own indexes.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ ...NO_LIMITS });
});
afterAll(async () => {
  await server.close();
});

const indexes = (): IndexManager => (server.services.recall as unknown as { indexes: IndexManager }).indexes;

/**
 * Read counters of engrams (frequency, injection_count) change without an event by design (touchEngrams-2:
 * counters are not content); nothing in recall or its filters reads them from the index.
 */
const READ_COUNTERS = ['frequency', 'injection_count'];

function snapshot(index: WorkspaceIndex) {
  const docs = [...index.documents()].map((d) => ({
    id: d.id,
    kind: d.kind,
    text: d.text,
    ts: d.ts,
    record: Object.fromEntries(Object.entries(d.record).filter(([key]) => !READ_COUNTERS.includes(key))),
  }));
  return docs.sort((a, b) => a.id.localeCompare(b.id));
}

/** The warm index (caught up from events) and one built again from Redis, after `act`. */
async function warmAndFresh(workspace: Tenant, act: () => Promise<void>) {
  await indexes().fresh(workspace); // warm before any of the events
  await act();
  const warm = snapshot(await indexes().fresh(workspace));
  indexes().drop(workspace);
  const fresh = snapshot(await indexes().fresh(workspace));
  return { warm, fresh };
}

const INTERNAL = ['search_text', 'fingerprint', 'slots'];

/** The public fields each event type may carry (the resource as GET returns it, before renaming). */
const MEMORY_COMMON = 'id,layer,content,importance,created_at,ts,user_id,agent_id,session_id,metadata';
const API_KEY = 'id,org,user_id,label,active,created_at,expires_at,last_used_at,revoked_at,personal';
const FACT = `${MEMORY_COMMON},subject,predicate,object,confidence,source_episode_id,valid_from,valid_to,status,superseded_by,confirmations,last_confirmed,extractor`;
const EPISODE = `${MEMORY_COMMON},event,source,channel,tags`;
const ENGRAM =
  'id,layer,ts,content,statement,domain,tags,rationale,ext,type,scope,status,pinned,commitment,locked_reason,valid_from,valid_until,supersedes,source,session_id,content_hash,write_count,retrieval_strength,storage_strength,frequency,last_accessed,feedback_signals,last_positive_at,injection_count,created_at,created_by,updated_at,engram_version';
const SESSION =
  'id,task,scope,tags,status,started_at,started_by,injected_ids,ended_at,summary,candidate_ids,repeated_ids,episode_id';
const ALLOWED: Record<string, string> = {
  'memory.working.added': `${MEMORY_COMMON},source,expires_at`,
  'memory.episode.added': EPISODE,
  'episode.captured': EPISODE,
  'memory.fact.added': FACT,
  'memory.fact.superseded': FACT,
  'memory.fact.confirmed': FACT,
  'memory.deleted': 'id,layer,user_id,agent_id',
  'memory.forgotten': 'user_id,ids,count',
  'working.cleared': 'ids,count,layer,user_id,agent_id',
  'working.evicted': 'id,layer,reason,user_id,agent_id',
  'working.expired': 'id,layer,user_id,agent_id',
  'memory.embedded': 'ids,embedder',
  'apikey.issued': API_KEY,
  'apikey.revoked': API_KEY,
  'user.created': 'id,username,email,display_name,role,active,created_at,updated_at,org',
  'session.started': SESSION,
  'session.ended': SESSION,
  ...Object.fromEntries(
    ['created', 'updated', 'retired', 'pinned', 'unpinned', 'promoted', 'feedback', 'accessed'].map((t) => [
      `engram.${t}`,
      ENGRAM,
    ]),
  ),
};

/** Every event's data has only the public fields of its type (and never an internal one). */
function expectPublicData(events: { type: string; data: Record<string, unknown> }[]): void {
  for (const event of events) {
    for (const field of INTERNAL)
      expect(event.data, `${event.type} carries ${field}`).not.toHaveProperty(field);
    const allowed = ALLOWED[event.type];
    expect(allowed, `an allow-list for ${event.type}`).toBeDefined();
    const extra = Object.keys(event.data).filter((key) => !(allowed as string).split(',').includes(key));
    expect(extra, `${event.type} carries fields beyond its public shape`).toEqual([]);
  }
}

async function eventsOf(workspace: Tenant) {
  const page = await server.services.events.read(workspace, '0-0', 10_000);
  const events = page.events.map(
    (e) => JSON.parse(e.json) as { type: string; data: Record<string, unknown> },
  );
  return events;
}

describe('events and the index', () => {
  it('a stream entry that is not an envelope never stops catch-up', async () => {
    const workspace = uniqueWorkspace('evbad');
    const token = await createLayerKey(server, workspace, { rate_limit_rpm: 1_000_000 });
    await indexes().fresh(layerTenant(workspace));
    const redis = new Redis(inject('redisUrl'));
    try {
      await redis.xadd(
        new Keys(FILE_PREFIX).eventStream(layerTenant(workspace)),
        '*',
        't',
        'memory.deleted',
        'e',
        '"type":"x",{',
      );
    } finally {
      await redis.quit();
    }
    await server.request('POST', '/v1/remember', { token, body: { content: 'after the bad entry' } });
    const recall = await server.request('POST', '/v1/recall', { token, body: { query: 'bad entry' } });
    expect(recall.status).toBe(200);
    expect(recall.json.results.length).toBeGreaterThan(0);
  });

  it('a warm index equals a fresh one after every layer event type, and a superseded fact is not current', async () => {
    const workspace = uniqueWorkspace('evidx');
    const token = await createLayerKey(server, workspace, { rate_limit_rpm: 1_000_000 });
    const post = (path: string, body: unknown) => server.request('POST', path, { token, body });
    const { warm, fresh } = await warmAndFresh(layerTenant(workspace), async () => {
      await post('/v1/remember', { content: 'I live in Berlin', user_id: 'u1' });
      const paris = await post('/v1/remember', { content: 'I live in Paris', user_id: 'u1' });
      expect(paris.status).toBe(200);
      await post('/v1/remember', { content: 'I live in Paris', user_id: 'u1' }); // confirmed
      await post('/v1/remember', { content: 'short lived note', user_id: 'u2', agent_id: 'a' });
      const gone = await post('/v1/remember', { content: 'to be deleted', user_id: 'u2' });
      await server.request('DELETE', `/v1/memory/${gone.json.episode_id as string}`, { token });
      await server.request('DELETE', '/v1/memory?user_id=u2&agent_id=a', { token });
      await post('/v1/remember', { content: 'erase me soon', user_id: 'u3' });
      await server.request('DELETE', '/v1/users/u3', { token });
    });
    expect(warm).toEqual(fresh);
    const facts = warm.filter((d) => d.kind === 'semantic');
    const current = facts.filter((d) => d.record.status === 'current').map((d) => d.record.object);
    expect(current).toEqual(['Paris']);

    const recall = await post('/v1/recall', {
      query: 'where do I live',
      user_id: 'u1',
      layers: ['semantic'],
      include: ['fact'],
    });
    const statuses = (recall.json.results as { content: string; fact?: { status: string } }[]).map((r) => [
      r.content,
      r.fact?.status,
    ]);
    expect(statuses.filter(([, status]) => status === 'current')).toHaveLength(1);

    expectPublicData(await eventsOf(layerTenant(workspace)));
  });

  it('a warm index equals a fresh one after every engram event type; engram events carry no search text', async () => {
    const org = new Org(server, 'evidxorg');
    const editor = await org.user('ed', 'admin');
    const { warm, fresh } = await warmAndFresh(orgTenant(org.id), async () => {
      const created = await org.engram(editor, {
        statement: 'deploy on fridays is forbidden',
        scope: 'global',
      });
      const id = (created.engram?.id ?? created.id) as string;
      const as = (method: string, path: string, body?: unknown) =>
        server.request(method, path, { token: editor.key, body });
      await as('PATCH', `/api/v1/engrams/${id}`, {
        statement: 'deploy on fridays is discouraged',
        tags: ['ops'],
      });
      await as('POST', `/api/v1/engrams/${id}/feedback`, { signal: 'positive' });
      await as('POST', `/api/v1/engrams/${id}/pin`, { pinned: true });
      await as('POST', '/api/v1/recall', { query: 'deploy fridays' });
      const other = await org.engram(editor, { statement: 'retire this one', scope: 'global' });
      await as('DELETE', `/api/v1/engrams/${(other.engram?.id ?? other.id) as string}`);
      const started = await as('POST', '/api/v1/sessions', { task: 'deploy fridays', scope: 'global' });
      const ended = await as('POST', `/api/v1/sessions/${started.json.session_id as string}/end`, {
        summary: 'Moved the deploy.',
        learnings: ['Deploys move to Thursday when Friday is frozen.'],
      });
      await as('POST', `/api/v1/engrams/${ended.json.candidate_ids[0] as string}/promote`);
      await as('POST', '/api/v1/episodes', { summary: 'Migrated the billing database.', agent: 'cli' });
    });
    expect(warm.length).toBeGreaterThan(0);
    expect(warm).toEqual(fresh);
    expectPublicData(await eventsOf(orgTenant(org.id)));
  });
});
