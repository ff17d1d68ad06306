import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { prefixedId, randomHex } from '../../src/ids.js';
import type { EpisodeDoc, WorkingDoc } from '../../src/memory/documents.js';
import { EventLog } from '../../src/memory/event-log.js';
import type { Actor } from '../../src/memory/events.js';
import { buildFact, type ExtractedFact } from '../../src/memory/facts/fact-builder.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import type { Namespace } from '../../src/memory/namespace.js';
import { Keys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { layerTenant, type Tenant } from '../../src/tenant.js';

/** Each memory script (remember, clearWorking, expireWorking, deleteMemory, forgetUser, addFacts, setVectors). */
let redis: Redis;
let store: MemoryStore;
let events: EventLog;
const keys = new Keys(`mem${randomHex(4)}`);
const actor: Actor = { type: 'api_key', id: 'key_test' };

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  const scripts = new Scripts(redis);
  events = new EventLog(redis, scripts, keys, 10_000);
  store = new MemoryStore(redis, scripts, keys, events);
});
afterAll(async () => {
  await redis.quit();
});

function docs(ns: Namespace, content: string, importance: number, at: Date, expiresAt: number | null = null) {
  const common = {
    content,
    importance,
    created_at: at.toISOString(),
    ts: at.getTime(),
    user_id: ns.userId,
    agent_id: ns.agentId,
    session_id: null,
    metadata: {},
    source: null,
  };
  const working: WorkingDoc = { id: prefixedId('wm'), layer: 'working', ...common, expires_at: expiresAt };
  const episode: EpisodeDoc = {
    id: prefixedId('ep'),
    layer: 'episodic',
    ...common,
    event: 'custom',
    channel: null,
    tags: [],
  };
  return { working, episode };
}

function fact(ns: Namespace, extracted: ExtractedFact, at = new Date()) {
  return buildFact(extracted, {
    ns,
    sessionId: null,
    sourceEpisodeId: null,
    extractor: 'rules',
    now: at,
    importance: 0.5,
  });
}

async function remember(
  ws: Tenant,
  ns: Namespace,
  content: string,
  options: {
    importance?: number;
    capacity?: number;
    expiresAt?: number | null;
    facts?: ExtractedFact[];
    at?: Date;
  } = {},
) {
  const at = options.at ?? new Date();
  const { working, episode } = docs(ns, content, options.importance ?? 0.5, at, options.expiresAt ?? null);
  const facts = (options.facts ?? []).map((f) => fact(ns, f, at));
  const outcome = await store.remember({
    workspace: ws,
    actor,
    ns,
    capacity: options.capacity ?? 50,
    now: at,
    working,
    episode,
    facts,
    vectors: new Map([[working.id, new Float32Array([1, 0, 0, 0])]]),
  });
  return { working, episode, facts, outcome };
}

const eventTypes = async (ws: Tenant) => (await events.read(ws, '0-0', 10_000)).events.map((e) => e.type);
const testTenant = (): Tenant => layerTenant(`w${randomHex(3)}`);
const ns: Namespace = { userId: 'alice', agentId: 'bot' };

describe('remember-14', () => {
  it('writes working entry, episode, vector, counters and events atomically', async () => {
    const ws = testTenant();
    const { working, episode } = await remember(ws, ns, 'hello there');
    expect(JSON.parse((await redis.hget(keys.docs(ws), working.id))!)).toEqual(working);
    expect(JSON.parse((await redis.hget(keys.docs(ws), episode.id))!)).toEqual(episode);
    expect((await redis.hgetBuffer(keys.vectors(ws), working.id))?.byteLength).toBe(16);
    expect(await redis.zscore(keys.workingEntries(ws, 'alice|bot'), working.id)).toBe('0.5');
    expect(await redis.zscore(keys.episodes(ws), episode.id)).not.toBeNull();
    expect(await redis.hgetall(keys.stats(ws))).toMatchObject({ working: '1', episodic: '1' });
    expect(await redis.zrange(keys.agents(ws), '0', '-1')).toEqual(['bot']);
    expect(await redis.smembers(keys.userDocs(ws, 'alice'))).toEqual(
      expect.arrayContaining([working.id, episode.id]),
    );
    expect(await eventTypes(ws)).toEqual(['memory.working.added', 'memory.episode.added']);
  });

  it('evicts the lowest importance at capacity, oldest first on ties', async () => {
    const ws = testTenant();
    const a = await remember(ws, ns, 'a', { importance: 0.5, capacity: 3 });
    const b = await remember(ws, ns, 'b', { importance: 0.2, capacity: 3 });
    const c = await remember(ws, ns, 'c', { importance: 0.2, capacity: 3 });
    const d = await remember(ws, ns, 'd', { importance: 0.9, capacity: 3 });
    expect(d.outcome.evicted).toEqual([b.working.id]); // lowest importance, and older than c
    const e = await remember(ws, ns, 'e', { importance: 0.9, capacity: 3 });
    expect(e.outcome.evicted).toEqual([c.working.id]);
    const f = await remember(ws, ns, 'f', { importance: 0.9, capacity: 3 });
    expect(f.outcome.evicted).toEqual([a.working.id]);
    expect(await redis.zcard(keys.workingEntries(ws, 'alice|bot'))).toBe(3);
    expect(await redis.hexists(keys.docs(ws), b.working.id)).toBe(0);
    expect(await redis.hexists(keys.vectors(ws), b.working.id)).toBe(0);
    expect(await redis.hget(keys.stats(ws), 'working')).toBe('3');
    expect(await redis.hget(keys.stats(ws), 'episodic')).toBe('6'); // episodes are never evicted
    expect((await eventTypes(ws)).filter((t) => t === 'working.evicted')).toHaveLength(3);
  });

  it('purges expired entries of the namespace before adding', async () => {
    const ws = testTenant();
    const old = await remember(ws, ns, 'short lived', { expiresAt: Date.now() - 1 });
    expect(await redis.zscore(keys.workingExpiryIndex(ws), 'alice|bot')).not.toBeNull();
    const next = await remember(ws, ns, 'next');
    expect(next.outcome.expired).toEqual([old.working.id]);
    expect(await redis.hexists(keys.docs(ws), old.working.id)).toBe(0);
    expect(await redis.zscore(keys.workingExpiryIndex(ws), 'alice|bot')).toBeNull();
    expect(await eventTypes(ws)).toContain('working.expired');
  });

  it('confirms duplicate facts and supersedes single-valued ones, keeping history', async () => {
    const ws = testTenant();
    const first = await remember(ws, ns, 'I live in Berlin', {
      facts: [{ subject: 'user', predicate: 'located_in', object: 'Berlin', confidence: 0.9 }],
    });
    const berlin = first.facts[0]!.doc.id;
    const again = await remember(ws, ns, 'I live in berlin!', {
      facts: [{ subject: 'user', predicate: 'located_in', object: 'berlin!', confidence: 0.95 }],
    });
    expect(again.outcome.facts).toEqual([{ id: berlin, outcome: 'confirmed', superseded: [] }]);
    const confirmed = JSON.parse((await redis.hget(keys.docs(ws), berlin))!);
    expect(confirmed).toMatchObject({ confirmations: 2, confidence: 0.95, status: 'current' });

    const moved = await remember(ws, ns, 'I live in Paris', {
      facts: [{ subject: 'user', predicate: 'located_in', object: 'Paris', confidence: 0.9 }],
    });
    const paris = moved.facts[0]!.doc.id;
    expect(moved.outcome.facts).toEqual([{ id: paris, outcome: 'added', superseded: [berlin] }]);
    const history = JSON.parse((await redis.hget(keys.docs(ws), berlin))!);
    expect(history).toMatchObject({ status: 'superseded', superseded_by: paris });
    expect(history.valid_to).toMatch(/^\d{4}-/);
    expect(await redis.hget(keys.stats(ws), 'semantic')).toBe('1');
    expect(await redis.zcard(keys.facts(ws))).toBe(2);
    expect(await eventTypes(ws)).toEqual(
      expect.arrayContaining(['memory.fact.confirmed', 'memory.fact.superseded']),
    );
  });
});

describe('clearWorking-8 and expireWorking-8', () => {
  it('clears one namespace and leaves the others', async () => {
    const ws = testTenant();
    await remember(ws, ns, 'one');
    await remember(ws, ns, 'two');
    const other = await remember(ws, { userId: 'bob', agentId: null }, 'bob');
    expect(await store.clearWorking(ws, actor, ns)).toBe(2);
    expect(await store.clearWorking(ws, actor, ns)).toBe(0);
    expect(await redis.hexists(keys.docs(ws), other.working.id)).toBe(1);
    expect(await redis.hget(keys.stats(ws), 'working')).toBe('1');
    const cleared = (await events.read(ws, '0-0', 100)).events.filter((e) => e.type === 'working.cleared');
    expect(cleared).toHaveLength(1);
    expect(JSON.parse(cleared[0]!.json).data).toMatchObject({ count: 2, user_id: 'alice', agent_id: 'bot' });
  });

  it('expires due entries and updates the expiry index', async () => {
    const ws = testTenant();
    const soon = await remember(ws, ns, 'soon', { expiresAt: Date.now() + 50 });
    const later = await remember(ws, ns, 'later', { expiresAt: Date.now() + 3_600_000 });
    expect(await store.dueNamespaces(ws, new Date(Date.now() + 100))).toEqual(['alice|bot']);
    expect(await store.expireWorking(ws, ns, new Date(Date.now() + 100))).toBe(1);
    expect(await redis.hexists(keys.docs(ws), soon.working.id)).toBe(0);
    expect(await redis.hexists(keys.docs(ws), later.working.id)).toBe(1);
    expect(Number(await redis.zscore(keys.workingExpiryIndex(ws), 'alice|bot'))).toBe(
      later.working.expires_at,
    );
    expect(await store.ttlWorkspaces()).toContain(ws);
  });
});

describe('deleteMemory-12', () => {
  it('deletes any layer with its index entries, and nothing else', async () => {
    const ws = testTenant();
    const r = await remember(ws, ns, 'I live in Rome', {
      facts: [{ subject: 'user', predicate: 'located_in', object: 'Rome', confidence: 0.9 }],
    });
    for (const id of [r.working.id, r.episode.id, r.facts[0]!.doc.id]) {
      expect((await store.deleteMemory(ws, actor, id))?.id).toBe(id);
      expect(await redis.hexists(keys.docs(ws), id)).toBe(0);
    }
    expect(await redis.hgetall(keys.stats(ws))).toMatchObject({ working: '0', episodic: '0', semantic: '0' });
    expect(await redis.hlen(keys.factSlots(ws))).toBe(0);
    expect(await redis.hlen(keys.factFingerprints(ws))).toBe(0);
    expect(await redis.scard(keys.userDocs(ws, 'alice'))).toBe(0);
    expect(await store.deleteMemory(ws, actor, r.working.id)).toBeUndefined();
    expect((await eventTypes(ws)).filter((t) => t === 'memory.deleted')).toHaveLength(3);
  });

  it('refuses to delete documents that are not layer memories', async () => {
    const ws = testTenant();
    await redis.hset(keys.docs(ws), 'ENG-1', JSON.stringify({ id: 'ENG-1', layer: 'engram', content: 'x' }));
    expect(await store.deleteMemory(ws, actor, 'ENG-1')).toBeUndefined();
    expect(await redis.hexists(keys.docs(ws), 'ENG-1')).toBe(1);
  });
});

describe('forgetUser-9', () => {
  it('erases every layer of one user across namespaces and nobody else', async () => {
    const ws = testTenant();
    await remember(ws, { userId: 'carol', agentId: 'a1' }, 'I use emacs', {
      facts: [{ subject: 'user', predicate: 'uses', object: 'emacs', confidence: 0.8 }],
    });
    await remember(ws, { userId: 'carol', agentId: null }, 'second');
    const dave = await remember(ws, { userId: 'dave', agentId: null }, 'dave stays');
    const counts = await store.forgetUser(ws, actor, 'carol');
    expect(counts).toEqual({ working: 2, episodic: 2, semantic: 1 });
    const left = await redis.hkeys(keys.docs(ws));
    expect(left.sort()).toEqual([dave.working.id, dave.episode.id].sort());
    expect(await redis.hgetall(keys.stats(ws))).toMatchObject({ working: '1', episodic: '1', semantic: '0' });
    expect(await eventTypes(ws)).toContain('memory.forgotten');
    expect(await store.forgetUser(ws, actor, 'carol')).toEqual({ working: 0, episodic: 0, semantic: 0 });
  });
});

describe('addFacts-8 and setVectors-3', () => {
  it('adds facts later with the same dedup rules', async () => {
    const ws = testTenant();
    const f1 = fact(ns, { subject: 'user', predicate: 'works_at', object: 'Acme', confidence: 0.8 });
    const f2 = fact(ns, { subject: 'user', predicate: 'works_at', object: 'Globex', confidence: 0.8 });
    const [first] = await store.addFacts(ws, actor, ns, [f1], new Map(), null);
    expect(first).toEqual({ id: f1.doc.id, outcome: 'added', superseded: [] });
    const [second] = await store.addFacts(ws, actor, ns, [f2], new Map(), null);
    expect(second).toEqual({ id: f2.doc.id, outcome: 'added', superseded: [f1.doc.id] });
  });

  it('drops facts whose source episode is gone (a late job must not undo an erasure)', async () => {
    const ws = testTenant();
    const r = await remember(ws, ns, 'I work at Initech');
    const late = fact(ns, { subject: 'user', predicate: 'works_at', object: 'Initech', confidence: 0.8 });
    await store.forgetUser(ws, actor, ns.userId!);
    const before = await redis.hlen(keys.docs(ws));
    expect(await store.addFacts(ws, actor, ns, [late], new Map(), r.episode.id)).toEqual([]);
    expect(await redis.hlen(keys.docs(ws))).toBe(before);
    expect(await redis.hexists(keys.docs(ws), late.doc.id)).toBe(0);

    const kept = await remember(ws, ns, 'I live in Oslo');
    const live = fact(ns, { subject: 'user', predicate: 'located_in', object: 'Oslo', confidence: 0.8 });
    const [outcome] = await store.addFacts(ws, actor, ns, [live], new Map(), kept.episode.id);
    expect(outcome).toMatchObject({ id: live.doc.id, outcome: 'added' });
  });

  it('stores vectors only for documents that still exist and announces them', async () => {
    const ws = testTenant();
    const r = await remember(ws, ns, 'vectorless');
    await redis.hdel(keys.vectors(ws), r.working.id);
    const stored = await store.setVectors(
      ws,
      'test-4',
      new Map([
        [r.working.id, new Float32Array([0, 1, 0, 0])],
        ['wm_gone', new Float32Array([0, 1, 0, 0])],
      ]),
    );
    expect(stored).toBe(1);
    const last = (await events.read(ws, '0-0', 100)).events.at(-1)!;
    expect(last.type).toBe('memory.embedded');
    expect(JSON.parse(last.json).data).toEqual({ ids: [r.working.id], embedder: 'test-4' });
  });
});
