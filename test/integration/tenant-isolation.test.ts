import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Org, startEngramServer, type TestUser } from '../helpers/engram.js';
import { ADMIN_KEY, createLayerKey, type TestServer } from '../helpers/server.js';
import { connectEvents, type EventClient, type Frame } from '../helpers/ws.js';

/**
 * A layer-API workspace and an engram-API organisation of the same name are separate tenants: neither face
 * sees, counts, reads or erases anything of the other, live or replayed.
 */
let server: TestServer;
const open: EventClient[] = [];

beforeAll(async () => {
  server = await startEngramServer();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.close();
});

async function socket(token: string, path: string, since?: string): Promise<EventClient> {
  const client = await connectEvents(server, token, { path });
  open.push(client);
  await client.subscribe(since === undefined ? {} : { since });
  return client;
}

/** Everything the engram face writes for one organisation: identities, a personal engram, a session, an episode. */
async function engramActivity(org: Org): Promise<{ alice: TestUser; engramId: string; episodeId: string }> {
  const alice = await org.user('alice');
  const engram = await org.engram(alice, {
    statement: 'My personal reminder: the vault code is on the blue card.',
    scope: `user:${org.id}:alice`,
  });
  const session = await org.as(alice, 'POST', '/api/v1/sessions', { task: 'Rotate the billing secrets' });
  expect(session.status).toBe(201);
  const episode = await org.as(alice, 'POST', '/api/v1/episodes', { summary: 'Billing secrets rotated.' });
  expect(episode.status).toBe(201);
  return { alice, engramId: engram.id, episodeId: episode.json.id };
}

const layerRemember = (key: string, content: string) =>
  server.request('POST', '/v1/remember', { token: key, body: { content, user_id: 'bob', agent_id: 'bot' } });

const types = (client: EventClient): string[] => client.events.map((e: Frame) => e.type as string);

describe('layer workspace O and engram organisation O', () => {
  it('a layer key of O sees none of organisation O’s events, live or replayed from the start', async () => {
    const org = new Org(server, 'shared');
    const layerKey = await createLayerKey(server, org.id);
    const live = await socket(layerKey, '/v1/events');

    await engramActivity(org);
    // A marker written after the engram activity: with one shared stream it would arrive after all of it.
    const marker = await layerRemember(layerKey, 'Layer marker after the engram writes.');
    expect(marker.status).toBe(200);
    await live.waitFor((f) => f.type === 'memory.episode.added');
    const replay = await socket(layerKey, '/v1/events', '0-0');
    await replay.waitFor((f) => f.op === 'replay.done');

    for (const client of [live, replay]) {
      expect(types(client).length).toBeGreaterThan(0);
      expect(types(client).every((t) => t.startsWith('memory.'))).toBe(true);
      expect(client.events.map((e: Frame) => JSON.stringify(e)).join('\n')).not.toMatch(
        /vault code|usr_|apikey|session\./,
      );
    }
  });

  it('a layer key of O cannot read, erase or count organisation O’s users, episodes and engrams', async () => {
    const org = new Org(server, 'shared');
    const layerKey = await createLayerKey(server, org.id);
    const { alice, engramId, episodeId } = await engramActivity(org);
    const asLayer = (method: string, path: string, body?: unknown) =>
      server.request(method, path, { token: layerKey, ...(body === undefined ? {} : { body }) });

    expect((await asLayer('GET', `/v1/memory/${episodeId}`)).status).toBe(404);
    expect((await asLayer('GET', `/v1/memory/${engramId}`)).status).toBe(404);
    expect((await asLayer('DELETE', `/v1/memory/${engramId}`)).status).toBe(404);
    expect((await asLayer('DELETE', `/v1/memory/${episodeId}`)).status).toBe(404);
    const erased = await asLayer('DELETE', `/v1/users/${alice.id}`);
    expect(erased.status).toBe(200);
    expect(erased.json.deleted).toBe(0);

    const stats = await asLayer('GET', '/v1/stats');
    expect(stats.json).toMatchObject({ working: 0, episodic: 0, semantic: 0 });
    const recall = await asLayer('POST', '/v1/recall', { query: 'billing secrets rotated vault code' });
    expect(recall.json.results).toEqual([]);

    // Organisation O is untouched: its user, engram and episode are all still there.
    expect((await org.as(alice, 'GET', '/api/v1/me')).status).toBe(200);
    expect((await org.as(alice, 'GET', `/api/v1/engrams/${engramId}`)).status).toBe(200);
    expect((await org.as(alice, 'GET', `/api/v1/episodes/${episodeId}`)).status).toBe(200);
  });

  it('an engram key of organisation O sees nothing of layer workspace O', async () => {
    const org = new Org(server, 'shared');
    const layerKey = await createLayerKey(server, org.id);
    const alice = await org.user('alice');
    const userSocket = await socket(alice.key, '/api/v1/events');
    const adminSocket = await connectEvents(server, ADMIN_KEY, {
      path: '/api/v1/events',
      headers: { 'x-mnemo-org': org.id },
    });
    open.push(adminSocket);
    await adminSocket.subscribe({});

    const written = await layerRemember(layerKey, 'Layer-only note about the billing migration.');
    expect(written.status).toBe(200);
    const episodeId = written.json.episode_id;
    // A marker on the engram face after the layer write.
    const marker = await org.engram(alice, {
      statement: 'Engram marker after the layer write.',
      scope: 'global',
    });
    for (const client of [userSocket, adminSocket])
      await client.waitFor((f) => f.type === 'engram.created' && f.data.id === marker.id);
    const replay = await socket(alice.key, '/api/v1/events', '0-0');
    await replay.waitFor((f) => f.op === 'replay.done');
    for (const client of [userSocket, adminSocket, replay])
      expect(types(client).filter((t) => t.startsWith('memory.') || t.startsWith('working.'))).toEqual([]);

    const timeline = await org.as(alice, 'GET', '/api/v1/episodes');
    expect(timeline.json.rows).toEqual([]);
    expect((await org.as(alice, 'GET', `/api/v1/episodes/${episodeId}`)).status).toBe(404);
    const recall = await org.as(alice, 'POST', '/api/v1/recall', { query: 'billing migration layer note' });
    expect(JSON.stringify(recall.json)).not.toContain('Layer-only note');
  });
});
