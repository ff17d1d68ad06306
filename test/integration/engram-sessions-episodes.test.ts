import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import type { TestResponse, TestServer } from '../helpers/server.js';

/** /api/v1/episodes (the layer API's episodes) and /api/v1/sessions (start, end with learnings, read). */
let server: TestServer;

beforeAll(async () => {
  server = await startEngramServer();
});
afterAll(async () => {
  await server.close();
});

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);

describe('episodes', () => {
  it('captures an episode and reads it back', async () => {
    const org = new Org(server);
    const alice = await org.user('alice');
    const res = await org.as(alice, 'POST', '/api/v1/episodes', {
      summary: 'Migrated the billing database.',
      agent: 'claude-code',
      channel: 'cli',
      session_id: 'sess-1',
      tags: ['billing', 'db'],
    });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      id: expect.stringMatching(/^ep_[0-9a-z]{26}$/),
      summary: 'Migrated the billing database.',
      agent: 'claude-code',
      channel: 'cli',
      session_id: 'sess-1',
      tags: ['billing', 'db'],
      event: 'custom',
      user_id: alice.id,
      created_at: iso,
    });
    expect((await org.as(alice, 'GET', `/api/v1/episodes/${res.json.id}`)).json).toEqual(res.json);
  });

  it('filters the timeline and pages through it with a cursor, newest first', async () => {
    const org = new Org(server);
    const alice = await org.user('alice');
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await org.as(alice, 'POST', '/api/v1/episodes', {
        summary: `Episode ${i}`,
        agent: i % 2 ? 'odd' : 'even',
        channel: i < 3 ? 'a' : 'b',
        session_id: i === 5 ? 'special' : undefined,
      });
      made.push(res.json.id);
    }
    const newestFirst = [...made].reverse();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await org.as(
        alice,
        'GET',
        `/api/v1/episodes?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.json.rows.map((r: { id: string }) => r.id));
      cursor = res.json.next_cursor;
    } while (cursor);
    expect(seen).toEqual(newestFirst);

    const odd = await org.as(alice, 'GET', '/api/v1/episodes?agent=odd');
    expect(odd.json.rows.map((r: { summary: string }) => r.summary)).toEqual([
      'Episode 5',
      'Episode 3',
      'Episode 1',
    ]);
    const channel = await org.as(alice, 'GET', '/api/v1/episodes?channel=a&limit=2');
    expect(channel.json.rows.map((r: { summary: string }) => r.summary)).toEqual(['Episode 2', 'Episode 1']);
    expect(channel.json.next_cursor).not.toBeNull();
    const session = await org.as(alice, 'GET', '/api/v1/episodes?session=special');
    expect(session.json.rows.map((r: { summary: string }) => r.summary)).toEqual(['Episode 5']);
    const future = await org.as(alice, 'GET', `/api/v1/episodes?from=2999-01-01`);
    expect(future.json).toEqual({ rows: [], next_cursor: null });
    const today = new Date().toISOString().slice(0, 10);
    const untilToday = await org.as(alice, 'GET', `/api/v1/episodes?from=2000-01-01&to=${today}`);
    expect(untilToday.json.rows).toHaveLength(7);
    const past = await org.as(alice, 'GET', '/api/v1/episodes?to=2000-01-01T00:00:00Z');
    expect(past.json.rows).toEqual([]);
  });

  it("answers 404 for a missing episode, an engram id and another organisation's episode", async () => {
    const org = new Org(server);
    const other = new Org(server);
    const theirs = await other.admin('POST', '/api/v1/episodes', { summary: 'Theirs.' });
    expect((await org.admin('GET', `/api/v1/episodes/${theirs.json.id}`)).status).toBe(404);
    expect((await org.admin('GET', '/api/v1/episodes/ep_missing')).status).toBe(404);
    const engram = await org.engram(null, { statement: 'Not an episode.' });
    expect((await org.admin('GET', `/api/v1/episodes/${engram.id}`)).status).toBe(404);
  });

  const bad: [string, string, unknown, RegExp][] = [
    ['no summary', 'POST', {}, /summary is required/],
    [
      'a summary over 8000 characters',
      'POST',
      { summary: 's'.repeat(8001) },
      /summary must NOT have more than 8000/,
    ],
    ['an agent with a space', 'POST', { summary: 's', agent: 'a b' }, /agent must match pattern/],
    ['tags that are not a list', 'POST', { summary: 's', tags: 'x' }, /tags must be array/],
    ['limit 201', 'GET', '?limit=201', /limit must be <= 200/],
    ['a malformed from', 'GET', '?from=yesterday', /from must match pattern/],
    ['a forged cursor', 'GET', '?cursor=abc', /cursor is not a cursor this server returned/],
  ];
  for (const [name, method, input, detail] of bad) {
    it(`answers 400 for ${name}`, async () => {
      const org = new Org(server);
      const res =
        method === 'GET'
          ? await org.admin('GET', `/api/v1/episodes${String(input)}`)
          : await org.admin('POST', '/api/v1/episodes', input);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(detail);
    });
  }
});

describe('sessions', () => {
  let org: Org;
  let alice: TestUser;
  let team: { id: string; scope: string };

  beforeAll(async () => {
    org = new Org(server);
    alice = await org.user('alice');
    team = await org.group('platform');
    await org.member(team.id, alice, 'editor');
  });

  it('injects at the start, turns learnings into candidates at the end, and those promote', async () => {
    const known = await org.engram(alice, {
      statement: 'Deploy freezes start on Fridays.',
      scope: team.scope,
    });
    const started = await org.as(alice, 'POST', '/api/v1/sessions', {
      task: 'Schedule the Friday deploy',
      scope: 'group:platform',
      tags: ['deploy'],
    });
    expect(started.status).toBe(201);
    expect(started.json).toEqual({
      session_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      engrams: { text: expect.stringContaining(known.id), count: 1, injected_ids: [known.id] },
    });
    const id = started.json.session_id;

    const ended = await org.as(alice, 'POST', `/api/v1/sessions/${id}/end`, {
      summary: 'Scheduled the deploy for Thursday instead.',
      learnings: [
        'Deploys move to Thursday when Friday is frozen.',
        { statement: 'Check the freeze calendar before scheduling.', type: 'procedural' },
        'Deploy freezes start on Fridays.',
      ],
    });
    expect(ended.status).toBe(200);
    expect(ended.json).toEqual({
      engrams_created: 2,
      candidate_ids: [expect.stringMatching(/^ENG-/), expect.stringMatching(/^ENG-/)],
      episode_id: expect.stringMatching(/^ep_/),
    });
    const [first, second] = ended.json.candidate_ids;
    const candidate = await org.as(alice, 'GET', `/api/v1/engrams/${second}`);
    expect(candidate.json).toMatchObject({ status: 'candidate', scope: team.scope });
    expect(candidate.json.data).toMatchObject({
      type: 'procedural',
      session_id: id,
      tags: ['deploy'],
      commitment: 'exploring',
    });
    expect((await org.as(alice, 'GET', `/api/v1/engrams/${known.id}`)).json.data.write_count).toBe(2);

    const episode = await org.as(alice, 'GET', `/api/v1/episodes/${ended.json.episode_id}`);
    expect(episode.json).toMatchObject({
      summary: 'Scheduled the deploy for Thursday instead.',
      session_id: id,
      event: 'summary',
    });

    const read = await org.as(alice, 'GET', `/api/v1/sessions/${id}`);
    expect(read.json).toEqual({
      session_id: id,
      task: 'Schedule the Friday deploy',
      scope: team.scope,
      tags: ['deploy'],
      status: 'ended',
      started_at: iso,
      ended_at: iso,
      summary: 'Scheduled the deploy for Thursday instead.',
      injected_ids: [known.id],
      candidate_ids: [first, second],
      repeated_ids: [known.id],
      episode_id: ended.json.episode_id,
    });

    expect((await org.as(alice, 'POST', `/api/v1/engrams/${first}/promote`)).json.engram.status).toBe(
      'active',
    );
    const recalled = await org.as(alice, 'POST', '/api/v1/recall', { query: 'Thursday' });
    expect(recalled.json.results.map((r: { id: string }) => r.id)).toEqual([first]);

    const twice = await org.as(alice, 'POST', `/api/v1/sessions/${id}/end`, {
      summary: 'again',
      learnings: [],
    });
    expect(twice.status).toBe(409);
  });

  it('defaults to your own scope and keeps sessions to whoever started them (and admins)', async () => {
    const bob = await org.user('bob');
    const started = await org.as(bob, 'POST', '/api/v1/sessions', { task: 'Solo work' });
    const id = started.json.session_id;
    expect((await org.as(bob, 'GET', `/api/v1/sessions/${id}`)).json.scope).toBe(`user:${org.id}:bob`);
    expect((await org.as(alice, 'GET', `/api/v1/sessions/${id}`)).status).toBe(404);
    expect((await org.as(alice, 'POST', `/api/v1/sessions/${id}/end`, { summary: 's' })).status).toBe(404);
    expect((await org.admin('GET', `/api/v1/sessions/${id}`)).status).toBe(200);
    const ended = await org.as(bob, 'POST', `/api/v1/sessions/${id}/end`, { summary: 'Nothing learned.' });
    expect(ended.json).toMatchObject({ engrams_created: 0, candidate_ids: [] });
  });

  it('refuses learnings a viewer may not write, and secrets for a shared scope, before writing anything', async () => {
    const viewer = await org.user('vic', 'viewer');
    await org.member(team.id, viewer, 'viewer');
    const started = await org.as(viewer, 'POST', '/api/v1/sessions', {
      task: 'Look around',
      scope: team.scope,
    });
    expect(started.status).toBe(201);
    const id = started.json.session_id;
    const denied = await org.as(viewer, 'POST', `/api/v1/sessions/${id}/end`, {
      summary: 's',
      learnings: ['x'],
    });
    expect(denied.status).toBe(403);
    const secret = await org.as(alice, 'POST', '/api/v1/sessions', { task: 't', scope: team.scope });
    const refused = await org.as(alice, 'POST', `/api/v1/sessions/${secret.json.session_id}/end`, {
      summary: 's',
      learnings: ['Fine learning.', 'The key is AKIAIOSFODNN7EXAMPLE'],
    });
    expect(refused.status).toBe(422);
    expect((await org.as(alice, 'GET', `/api/v1/sessions/${secret.json.session_id}`)).json.status).toBe(
      'active',
    );
    const outsider = await org.user('out');
    expect(
      (await org.as(outsider, 'POST', '/api/v1/sessions', { task: 't', scope: team.scope })).status,
    ).toBe(403);
  });

  const bad: [string, string, unknown, RegExp][] = [
    ['no task', '/api/v1/sessions', {}, /task is required/],
    ['a malformed scope', '/api/v1/sessions', { task: 't', scope: 'team:x' }, /scope must be global/],
    ['no summary', '/api/v1/sessions/00000000-0000-4000-8000-000000000000/end', {}, /summary is required/],
    [
      'a learning of the wrong type',
      '/api/v1/sessions/00000000-0000-4000-8000-000000000000/end',
      { summary: 's', learnings: [7] },
      /learnings\.0/,
    ],
    [
      'a learning without a statement',
      '/api/v1/sessions/00000000-0000-4000-8000-000000000000/end',
      { summary: 's', learnings: [{ type: 'procedural' }] },
      /learnings\.0/,
    ],
    [
      'too many learnings',
      '/api/v1/sessions/00000000-0000-4000-8000-000000000000/end',
      { summary: 's', learnings: Array(51).fill('x') },
      /learnings must NOT have more than 50/,
    ],
    [
      'a malformed session id',
      '/api/v1/sessions/not-a-uuid/end',
      { summary: 's' },
      /path\.id must match pattern/,
    ],
  ];
  for (const [name, path, body, detail] of bad) {
    it(`answers 400 for ${name}`, async () => {
      const res = await org.as(alice, 'POST', path, body);
      expect(res.status).toBe(400);
      expect(res.json.detail).toMatch(detail);
    });
  }

  it('answers 404 for an unknown session', async () => {
    expect((await org.as(alice, 'GET', '/api/v1/sessions/00000000-0000-4000-8000-000000000000')).status).toBe(
      404,
    );
  });
});

describe("another organisation's session and episode ids", () => {
  it('answer 404 on every route that takes one, to users and admins alike, and change nothing there', async () => {
    const theirs = new Org(server, 'theirs');
    const ours = new Org(server, 'ours');
    const owner = await theirs.user('owner');
    const [editor, boss] = await Promise.all([ours.user('ed'), ours.user('boss', 'admin')]);

    // Their side: an active session (with an engram it injected), an ended one, and a captured episode.
    await theirs.engram(owner, { statement: 'Their release checklist comes first.' });
    const active = await theirs.as(owner, 'POST', '/api/v1/sessions', { task: 'Their release checklist' });
    const ending = await theirs.as(owner, 'POST', '/api/v1/sessions', { task: 'Their retro' });
    const ended = await theirs.as(owner, 'POST', `/api/v1/sessions/${ending.json.session_id}/end`, {
      summary: 'Their retro is done.',
      learnings: ['Their retro learning.'],
    });
    expect(ended.status).toBe(200);
    const episode = await theirs.as(owner, 'POST', '/api/v1/episodes', { summary: 'Their episode.' });
    expect(episode.status).toBe(201);
    const snapshot = async () => ({
      active: (await theirs.as(owner, 'GET', `/api/v1/sessions/${active.json.session_id}`)).json,
      ended: (await theirs.as(owner, 'GET', `/api/v1/sessions/${ending.json.session_id}`)).json,
      episodes: (await theirs.admin('GET', '/api/v1/episodes?limit=200')).json,
      engrams: (await theirs.as(owner, 'GET', '/api/v1/engrams?limit=200')).json,
      audit: await server.services.audit.recent(theirs.id),
    });
    const before = await snapshot();
    expect(before.active.injected_ids).toHaveLength(1);
    expect(before.episodes.rows).toHaveLength(2);
    expect(before.engrams.total_count).toBe(2);

    const sessionIds = [active.json.session_id, ending.json.session_id];
    const episodeIds = [episode.json.id, ended.json.episode_id];
    const callers: [string, (method: string, path: string, body?: unknown) => Promise<TestResponse>][] = [
      ['an editor', (m, p, b) => ours.as(editor, m, p, b)],
      ['an organisation admin', (m, p, b) => ours.as(boss, m, p, b)],
      ['the admin key', (m, p, b) => ours.admin(m, p, b)],
    ];
    for (const [who, call] of callers) {
      const requests: [string, string, unknown][] = [
        ...sessionIds.flatMap((id): [string, string, unknown][] => [
          ['GET', `/api/v1/sessions/${id}`, undefined],
          ['POST', `/api/v1/sessions/${id}/end`, { summary: 'Hijacked.' }],
          ['POST', `/api/v1/sessions/${id}/end`, { summary: 'Hijacked.', learnings: ['Planted learning.'] }],
        ]),
        ...episodeIds.map((id): [string, string, unknown] => ['GET', `/api/v1/episodes/${id}`, undefined]),
      ];
      for (const [method, path, body] of requests) {
        const res = await call(method, path, body);
        expect(res.status, `${who}: ${method} ${path}`).toBe(404);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.json).toMatchObject({ type: 'https://mnemo.dev/errors/not-found', status: 404 });
      }
      // Their ids filter nothing in: the timeline of ours knows no such session.
      for (const id of sessionIds)
        expect((await call('GET', `/api/v1/episodes?session=${id}`)).json.rows, who).toEqual([]);
    }
    // Missing in the same shape as ids that exist nowhere.
    const nowhere = await ours.admin('GET', '/api/v1/sessions/00000000-0000-4000-8000-000000000000');
    const hidden = await ours.admin('GET', `/api/v1/sessions/${active.json.session_id}`);
    expect(Object.keys(hidden.json)).toEqual(Object.keys(nowhere.json));

    expect(await snapshot()).toEqual(before);
    expect(before.active.status).toBe('active');
    // Their session still ends normally, and nothing of ours was written either.
    const own = await theirs.as(owner, 'POST', `/api/v1/sessions/${active.json.session_id}/end`, {
      summary: 'Released.',
    });
    expect(own.status).toBe(200);
    expect((await ours.admin('GET', '/api/v1/engrams')).json.total_count).toBe(0);
    expect((await ours.admin('GET', '/api/v1/episodes')).json.rows).toEqual([]);
  });
});
