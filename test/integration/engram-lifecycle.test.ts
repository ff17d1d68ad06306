import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestServer } from '../helpers/server.js';
import { orgTenant } from '../../src/tenant.js';

/** Feedback arithmetic (plur.md §1.8), promote, and the typed events every change emits. */
let server: TestServer;
let org: Org;
let alice: TestUser;

beforeAll(async () => {
  server = await startEngramServer();
  org = new Org(server);
  alice = await org.user('alice', 'editor');
});
afterAll(async () => {
  await server.close();
});

const today = () => new Date().toISOString().slice(0, 10);
const feedback = (id: string, signal: string) =>
  org.as(alice, 'POST', `/api/v1/engrams/${id}/feedback`, { signal });
const data = async (id: string) => (await org.as(alice, 'GET', `/api/v1/engrams/${id}`)).json.data;

describe('feedback', () => {
  it('answers {id, signal, applied} and moves strength +0.05 / -0.10, with counters', async () => {
    const { id } = await org.engram(alice, {
      statement: 'Feedback arithmetic is exact.',
      commitment: 'exploring',
    });
    const res = await feedback(id, 'positive');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ id, signal: 'positive', applied: true });
    let d = await data(id);
    expect(d.retrieval_strength).toBe(0.75);
    expect(d.activation.retrieval_strength).toBe(0.75);
    expect(d.commitment).toBe('leaning');
    expect(d.activation.last_accessed).toBe(today());
    await feedback(id, 'positive');
    d = await data(id);
    expect(d.retrieval_strength).toBe(0.8);
    expect(d.commitment).toBe('decided');
    await feedback(id, 'positive');
    expect((await data(id)).commitment).toBe('decided'); // never to locked
    await feedback(id, 'negative');
    await feedback(id, 'neutral');
    d = await data(id);
    expect(d.retrieval_strength).toBe(0.75);
    expect(d.feedback_signals).toEqual({ positive: 3, negative: 1, neutral: 1 });
    expect(d.engram_version).toBe(6);
  });

  it('caps strength at 1 and floors it at 0', async () => {
    const up = await org.engram(alice, { statement: 'Praised to the ceiling.' });
    for (let i = 0; i < 8; i++) await feedback(up.id, 'positive');
    expect((await data(up.id)).retrieval_strength).toBe(1);
    const down = await org.engram(alice, { statement: 'Criticised to the floor.' });
    for (let i = 0; i < 9; i++) await feedback(down.id, 'negative');
    expect((await data(down.id)).retrieval_strength).toBe(0);
  });

  it('applies every one of many parallel signals exactly once', async () => {
    const { id } = await org.engram(alice, { statement: 'Parallel feedback is atomic.' });
    const signals = [...Array(5).fill('negative'), ...Array(4).fill('positive'), ...Array(3).fill('neutral')];
    const results = await Promise.all(signals.map((s) => feedback(id, s)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const d = await data(id);
    expect(d.feedback_signals).toEqual({ positive: 4, negative: 5, neutral: 3 });
    // Order matters only at the bounds, which this never reaches: 0.7 - 0.5 + 0.2.
    expect(d.retrieval_strength).toBe(0.4);
  });

  it('keeps draft and locked commitments as they are', async () => {
    const draft = await org.engram(alice, { statement: 'Draft stays draft.', commitment: 'draft' });
    const locked = await org.engram(alice, { statement: 'Locked stays locked.', commitment: 'locked' });
    await feedback(draft.id, 'positive');
    await feedback(locked.id, 'positive');
    expect((await data(draft.id)).commitment).toBe('draft');
    expect((await data(locked.id)).commitment).toBe('locked');
  });

  it('refuses bad signals and unknown engrams', async () => {
    const { id } = await org.engram(alice, { statement: 'Signals are checked.' });
    expect((await feedback(id, 'great')).status).toBe(400);
    expect((await org.as(alice, 'POST', `/api/v1/engrams/${id}/feedback`, {})).status).toBe(400);
    expect((await feedback('ENG-1999-01-01-001', 'positive')).status).toBe(404);
  });
});

describe('promote', () => {
  it('turns a candidate active with a fresh activation, and refuses anything else with 409', async () => {
    const session = await org.as(alice, 'POST', '/api/v1/sessions', { task: 'write docs' });
    const ended = await org.as(alice, 'POST', `/api/v1/sessions/${session.json.session_id}/end`, {
      summary: 'wrote docs',
      learnings: ['Docs live next to the code.'],
    });
    const [id] = ended.json.candidate_ids;
    expect((await data(id)).status).toBe('candidate');
    await feedback(id, 'negative');
    const promoted = await org.as(alice, 'POST', `/api/v1/engrams/${id}/promote`);
    expect(promoted.status).toBe(200);
    expect(promoted.json.engram).toMatchObject({ id, status: 'active' });
    expect(promoted.json.engram.data.activation).toEqual({
      retrieval_strength: 0.7,
      storage_strength: 1,
      frequency: 0,
      last_accessed: today(),
    });
    const again = await org.as(alice, 'POST', `/api/v1/engrams/${id}/promote`);
    expect(again.status).toBe(409);
    expect(again.json.detail).toBe(`Engram ${id} is not a candidate (status: active)`);
  });
});

describe('events', () => {
  it('announces every change with a typed event whose data carries the scope', async () => {
    const fresh = new Org(server, 'ev');
    const bob = await fresh.user('bob', 'admin');
    const before = await server.services.events.lastId(orgTenant(fresh.id));
    const { id } = await fresh.engram(bob, { statement: 'Events name their scope.' });
    await fresh.as(bob, 'PATCH', `/api/v1/engrams/${id}`, { tags: ['x'] });
    await fresh.as(bob, 'POST', `/api/v1/engrams/${id}/feedback`, { signal: 'positive' });
    await fresh.as(bob, 'POST', `/api/v1/engrams/${id}/pin`, {});
    await fresh.as(bob, 'POST', `/api/v1/engrams/${id}/pin`, { pinned: false });
    await fresh.as(bob, 'DELETE', `/api/v1/engrams/${id}`);
    await fresh.as(bob, 'POST', '/api/v1/episodes', { summary: 'Something happened.' });
    const page = await server.services.events.read(orgTenant(fresh.id), before, 100);
    const events = page.events.map((e) => JSON.parse(e.json));
    expect(events.map((e) => e.type)).toEqual([
      'engram.created',
      'engram.updated',
      'engram.feedback',
      'engram.pinned',
      'engram.unpinned',
      'engram.retired',
      'memory.episode.added',
      'episode.captured',
    ]);
    for (const event of events.filter((e) => e.type.startsWith('engram.'))) {
      expect(event.data).toMatchObject({ id, scope: `user:${fresh.id}:bob` });
      expect(event.actor).toEqual({ type: 'user', id: bob.id });
      expect(event.workspace).toBe(fresh.id);
    }
    expect(events[5].data.status).toBe('retired');
  });

  it('announces identity changes', async () => {
    const fresh = new Org(server, 'ev2');
    const before = await server.services.events.lastId(orgTenant(fresh.id));
    const carol = await fresh.user('carol');
    const group = await fresh.group('ops');
    await fresh.member(group.id, carol, 'editor');
    await fresh.admin('DELETE', `/api/v1/admin/groups/${group.id}/members/${carol.id}`);
    await fresh.admin('PATCH', `/api/v1/admin/users/${carol.id}`, { active: false });
    const page = await server.services.events.read(orgTenant(fresh.id), before, 100);
    const events = page.events.map((e) => JSON.parse(e.json));
    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      // The admin-issued key, exchanged by the user for a personal one (Org.user).
      'apikey.issued',
      'apikey.revoked',
      'apikey.issued',
      'group.created',
      'group.member_added',
      'group.member_removed',
      'user.updated',
      'user.disabled',
    ]);
    expect(events[5].data).toEqual({
      group_id: group.id,
      user_id: carol.id,
      role: 'editor',
      scope: group.scope,
    });
    expect(JSON.stringify(events[1].data)).not.toContain('plur_sk_');
  });
});
