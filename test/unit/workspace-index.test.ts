import { describe, expect, it } from 'vitest';
import { BuiltinEmbedder } from '../../src/memory/embedders/builtin.js';
import type { SearchDoc } from '../../src/memory/search/search-doc.js';
import { tokenize } from '../../src/memory/search/tokenizer.js';
import { WorkspaceIndex } from '../../src/memory/search/workspace-index.js';
import { layerTenant } from '../../src/tenant.js';

const embedder = new BuiltinEmbedder();

function doc(
  id: string,
  text: string,
  kind: SearchDoc['kind'] = 'episodic',
  record: Record<string, unknown> = {},
): SearchDoc {
  return { id, kind, text, ts: 0, record: { id, layer: kind, content: text, ...record } };
}

function index(docs: SearchDoc[]): WorkspaceIndex {
  const idx = new WorkspaceIndex(layerTenant('w'), embedder.dim);
  for (const d of docs) {
    idx.upsert(d);
    idx.setVector(d.id, embedder.embedOne(d.text));
  }
  return idx;
}

const search = (
  idx: WorkspaceIndex,
  query: string,
  extra: Partial<Parameters<WorkspaceIndex['search']>[0]> = {},
) =>
  idx.search({
    tokens: tokenize(query),
    vector: embedder.embedOne(query),
    kinds: ['working', 'episodic', 'semantic'],
    vectorFloor: embedder.noiseFloor,
    perLeg: 100,
    ...extra,
  });

describe('workspace index', () => {
  it('ranks by BM25 and reports both legs', () => {
    const idx = index([
      doc('a', 'the user prefers async python frameworks'),
      doc('b', 'the weather in berlin is cold'),
      doc('c', 'python python python snakes'),
    ]);
    const result = search(idx, 'async python');
    const byId = Object.fromEntries(result.candidates.map((c) => [c.doc.id, c]));
    expect(byId.a?.bm25Rank).toBe(1);
    expect(byId.a?.bm25Norm).toBeGreaterThan(byId.c?.bm25Norm ?? 1);
    expect(byId.b?.bm25 ?? 0).toBe(0);
    expect(byId.a?.cosine).toBeGreaterThan(0.3);
  });

  it('normalises BM25 to at most 1', () => {
    const idx = index([doc('a', 'deploy migrations first'), doc('b', 'unrelated words here')]);
    for (const c of search(idx, 'deploy migrations').candidates) {
      expect(c.bm25Norm).toBeGreaterThanOrEqual(0);
      expect(c.bm25Norm).toBeLessThanOrEqual(1);
    }
  });

  it('filters by kind and by the accept predicate', () => {
    const idx = index([
      doc('w', 'python notes', 'working', { user_id: 'u1' }),
      doc('e', 'python notes', 'episodic', { user_id: 'u2' }),
      doc('g', 'python notes', 'engram'),
    ]);
    expect(search(idx, 'python', { kinds: ['working'] }).candidates.map((c) => c.doc.id)).toEqual(['w']);
    const onlyU2 = search(idx, 'python', { accept: (d) => d.record.user_id === 'u2' });
    expect(onlyU2.candidates.map((c) => c.doc.id)).toEqual(['e']);
    expect(search(idx, 'python', { kinds: ['engram'] }).candidates.map((c) => c.doc.id)).toEqual(['g']);
  });

  it('forgets removed documents and keeps working after compaction reuses their slots', () => {
    const docs = Array.from({ length: 1200 }, (_, i) =>
      doc(`d${i}`, `memory number ${i} about topic${i % 7}`),
    );
    const idx = index(docs);
    for (let i = 0; i < 1100; i++) idx.remove(`d${i}`);
    expect(idx.size).toBe(100);
    // New documents reuse compacted slots; old postings must not resurface.
    idx.upsert(doc('fresh', 'a brand new zebra memory'));
    idx.setVector('fresh', embedder.embedOne('a brand new zebra memory'));
    const zebra = search(idx, 'zebra', { vector: undefined });
    expect(zebra.candidates.map((c) => c.doc.id)).toEqual(['fresh']);
    const topic = search(idx, 'topic3', { vector: undefined });
    for (const c of topic.candidates) expect(Number(c.doc.id.slice(1))).toBeGreaterThanOrEqual(1100);
    expect(topic.matched).toBe(topic.candidates.length);
  });

  it('replaces a document with the same id', () => {
    const idx = index([doc('a', 'old text about cats')]);
    idx.upsert(doc('a', 'new text about dogs'));
    expect(search(idx, 'cats', { vector: undefined }).candidates).toHaveLength(0);
    expect(search(idx, 'dogs', { vector: undefined }).candidates.map((c) => c.doc.id)).toEqual(['a']);
    const replaced = doc('a', 'new text about dogs');
    idx.upsert({ ...replaced, record: { ...replaced.record, status: 'superseded' } });
    expect(idx.get('a')?.record.status).toBe('superseded');
  });

  it('finds nothing for a nonsense query', () => {
    const idx = index([doc('a', 'the user prefers async python'), doc('b', 'berlin weather')]);
    const result = search(idx, 'xqzv plorkt');
    expect(result.candidates).toHaveLength(0);
  });
});

describe('workspace index memory', () => {
  it('keeps a small workspace small: 100 memories with 128-d vectors in well under 150 KB', () => {
    const idx = index(
      Array.from({ length: 100 }, (_, i) =>
        doc(`d${i}`, `note ${i} about project deploy database migration and the weekly report`),
      ),
    );
    // 1,024 slots from the start made this about 250 KB (a 64 MB budget held ~230 such workspaces).
    expect(idx.size).toBe(100);
    expect(idx.vectors.size).toBe(100);
    expect(idx.bytes()).toBeLessThan(150_000);
    expect(search(idx, 'project deploy').candidates.length).toBeGreaterThan(0);
  });
});

describe('filters that concern some kinds only (acceptKinds)', () => {
  const docs = [
    doc('e1', 'deploy the database on friday'),
    doc('e2', 'deploy notes for the team'),
    doc('w1', 'deploy reminder', 'working', { expires_at: 1 }),
    doc('f1', 'user deploys database', 'semantic', { status: 'superseded' }),
    doc('f2', 'user deploys often', 'semantic', { status: 'current' }),
  ];
  const refuse = (d: SearchDoc): boolean =>
    !(d.kind === 'working' && d.record.expires_at === 1) &&
    !(d.kind === 'semantic' && d.record.status === 'superseded');
  const ids = (result: ReturnType<typeof search>) => result.candidates.map((c) => c.doc.id).sort();

  it('finds what the filter on every kind finds, without showing it the other kinds', () => {
    const idx = index(docs);
    const seen: string[] = [];
    const watched = (d: SearchDoc): boolean => {
      seen.push(d.kind);
      return refuse(d);
    };
    const all = search(idx, 'deploy database', { accept: refuse });
    const some = search(idx, 'deploy database', { accept: watched, acceptKinds: ['working', 'semantic'] });
    expect(ids(some)).toEqual(ids(all));
    expect(ids(some)).toEqual(['e1', 'e2', 'f2']);
    expect(some.matched).toBe(all.matched);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).not.toContain('episodic');
  });

  it('still refuses the kinds it names, and no kind passes that the request does not ask for', () => {
    const idx = index(docs);
    const none = search(idx, 'deploy', { accept: () => false, acceptKinds: ['working', 'semantic'] });
    expect(ids(none)).toEqual(['e1', 'e2']);
    const episodicOnly = search(idx, 'deploy', { kinds: ['episodic'], accept: () => true, acceptKinds: [] });
    expect(ids(episodicOnly)).toEqual(['e1', 'e2']);
  });
});

describe('owner filter (interned user and agent of each slot)', () => {
  const owned = (i: number): SearchDoc =>
    doc(`d${i}`, `pelican harbor note ${i}`, i % 3 === 0 ? 'working' : 'episodic', {
      user_id: i % 2 === 0 ? 'alice' : 'bob',
      agent_id: i % 5 === 0 ? 'planner' : null,
    });
  const ids = (result: ReturnType<typeof search>): string[] => result.candidates.map((c) => c.doc.id).sort();

  it('finds what a filter reading each record finds, for a user, an agent, or both', () => {
    const idx = index(Array.from({ length: 60 }, (_, i) => owned(i)));
    for (const [userId, agentId] of [
      ['alice', null],
      ['bob', null],
      [null, 'planner'],
      ['bob', 'planner'],
    ] as const) {
      const byOwner = search(idx, 'pelican harbor', { owner: { userId, agentId } });
      const byRecord = search(idx, 'pelican harbor', {
        accept: (d) =>
          (userId === null || d.record.user_id === userId) &&
          (agentId === null || d.record.agent_id === agentId),
      });
      expect(ids(byOwner)).toEqual(ids(byRecord));
      expect(byOwner.matched).toBe(byRecord.matched);
      expect(byOwner.candidates.length).toBeGreaterThan(0);
    }
    // No filter at all: everything.
    expect(search(idx, 'pelican harbor', { owner: { userId: null, agentId: null } }).candidates).toHaveLength(
      60,
    );
  });

  it('returns nothing for an owner no document has, and follows updates and removals', () => {
    const idx = index(Array.from({ length: 10 }, (_, i) => owned(i)));
    expect(search(idx, 'pelican', { owner: { userId: 'carol', agentId: null } })).toEqual({
      candidates: [],
      matched: 0,
    });
    // The same text with another owner (an update that keeps the slot).
    idx.upsert(doc('d1', 'pelican harbor note 1', 'episodic', { user_id: 'carol', agent_id: null }));
    expect(ids(search(idx, 'pelican', { owner: { userId: 'carol', agentId: null } }))).toEqual(['d1']);
    expect(ids(search(idx, 'pelican', { owner: { userId: 'bob', agentId: null } }))).not.toContain('d1');
    idx.remove('d1');
    expect(search(idx, 'pelican', { owner: { userId: 'carol', agentId: null } }).candidates).toEqual([]);
    // A reused slot takes its new document's owner.
    idx.upsert(doc('new', 'pelican in a new slot', 'episodic', { user_id: 'dave' }));
    expect(ids(search(idx, 'pelican', { owner: { userId: 'dave', agentId: null } }))).toEqual(['new']);
  });

  it('keeps the owners through a snapshot round trip', () => {
    const idx = index(Array.from({ length: 30 }, (_, i) => owned(i)));
    const run = <T>(work: Generator<undefined, T>): T => {
      for (;;) {
        const next = work.next();
        if (next.done) return next.value;
      }
    };
    const restored = run(
      WorkspaceIndex.restore(layerTenant('w'), embedder.dim, 'int8', run(idx.captureState())),
    );
    for (const userId of ['alice', 'bob']) {
      const filter = { owner: { userId, agentId: 'planner' } };
      expect(ids(search(restored, 'pelican harbor', filter))).toEqual(
        ids(search(idx, 'pelican harbor', filter)),
      );
      expect(search(restored, 'pelican harbor', filter).candidates.length).toBeGreaterThan(0);
    }
  });
});
