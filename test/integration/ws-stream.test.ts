import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/memory/events.js';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { connectEvents, type EventClient } from '../helpers/ws.js';
import { layerTenant } from '../../src/tenant.js';

/** Delivery over /v1/events: envelopes, filters by type and namespace, tenant isolation, `$`. */
let server: TestServer;
const open: EventClient[] = [];
const actor: Actor = { type: 'api_key', id: 'key_test' };

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await server.close();
});

async function client(workspace: string): Promise<EventClient> {
  const c = await connectEvents(server, await createLayerKey(server, workspace));
  open.push(c);
  return c;
}

const memory = (type: string, user_id: string | null, agent_id: string | null, content: string) => ({
  type,
  data: { id: `mem_${content}`, content, user_id, agent_id },
});

describe('live events', () => {
  it('delivers each event as its envelope, exactly as stored', async () => {
    const workspace = uniqueWorkspace('env');
    const c = await client(workspace);
    await c.subscribe({});
    const [id] = await server.services.events.append(layerTenant(workspace), actor, [
      memory('memory.working.added', 'alice', 'planner', 'quote " é 日本'),
    ]);
    const event = await c.waitFor((f) => f.id === id);
    expect(event).toEqual({
      id,
      type: 'memory.working.added',
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      workspace,
      actor,
      data: { id: 'mem_quote " é 日本', content: 'quote " é 日本', user_id: 'alice', agent_id: 'planner' },
    });
    const page = await server.services.events.read(layerTenant(workspace), '0-0', 10);
    expect(JSON.parse(page.events[0]!.json)).toEqual(event);
  });

  it('filters by exact type and by family', async () => {
    const workspace = uniqueWorkspace('types');
    const c = await client(workspace);
    await c.subscribe({ id: 'facts', types: ['memory.fact.added'] });
    const d = await client(workspace);
    await d.subscribe({ id: 'memory', types: ['memory.*'] });
    const ids = await server.services.events.append(layerTenant(workspace), actor, [
      memory('memory.working.added', null, null, 'w'),
      memory('working.evicted', null, null, 'e'),
      memory('memory.fact.added', null, null, 'f'),
      memory('memory.episode.added', null, null, 'p'),
    ]);
    await d.waitFor((f) => f.id === ids[3]);
    await c.waitFor((f) => f.id === ids[2]);
    // A marker every subscriber wants proves nothing else was on its way.
    const [marker] = await server.services.events.append(layerTenant(workspace), actor, [
      memory('memory.fact.added', null, null, 'm'),
    ]);
    await c.waitFor((f) => f.id === marker);
    await d.waitFor((f) => f.id === marker);
    expect(c.events.map((e) => e.type)).toEqual(['memory.fact.added', 'memory.fact.added']);
    expect(d.events.map((e) => e.data.content)).toEqual(['w', 'f', 'p', 'm']);
  });

  it('filters by user_id and agent_id', async () => {
    const workspace = uniqueWorkspace('ns');
    const alice = await client(workspace);
    await alice.subscribe({ user_id: 'alice' });
    const alicePlanner = await client(workspace);
    await alicePlanner.subscribe({ user_id: 'alice', agent_id: 'planner' });
    const planner = await client(workspace);
    await planner.subscribe({ agent_id: 'planner', types: ['memory.working.added'] });
    await server.services.events.append(layerTenant(workspace), actor, [
      memory('memory.working.added', 'alice', 'planner', '1'),
      memory('memory.working.added', 'alice', 'coder', '2'),
      memory('memory.working.added', 'bob', 'planner', '3'),
      memory('memory.working.added', null, null, '4'),
      memory('memory.fact.added', 'alice', 'planner', '5'),
      memory('memory.working.added', 'alice', null, '6'),
    ]);
    const [end] = await server.services.events.append(layerTenant(workspace), actor, [
      memory('memory.working.added', 'alice', 'planner', 'end'),
    ]);
    for (const c of [alice, alicePlanner, planner]) await c.waitFor((f) => f.id === end);
    const contents = (c: EventClient) => c.events.map((e) => e.data.content);
    expect(contents(alice)).toEqual(['1', '2', '5', '6', 'end']);
    expect(contents(alicePlanner)).toEqual(['1', '5', 'end']);
    expect(contents(planner)).toEqual(['1', '3', 'end']);
  });

  it('never sends another workspace its events', async () => {
    const mine = uniqueWorkspace('mine');
    const theirs = uniqueWorkspace('theirs');
    const me = await client(mine);
    await me.subscribe({ since: '0-0' });
    await me.waitFor((f) => f.op === 'replay.done');
    const them = await client(theirs);
    await them.subscribe({});
    await server.services.events.append(layerTenant(theirs), actor, [
      memory('memory.fact.added', 'alice', null, 'secret'),
    ]);
    const [marker] = await server.services.events.append(layerTenant(mine), actor, [
      memory('memory.fact.added', null, null, 'x'),
    ]);
    await them.waitFor((f) => f.data?.content === 'secret');
    await me.waitFor((f) => f.id === marker);
    expect(me.events.map((e) => e.workspace)).toEqual([mine]);
    expect(JSON.stringify(me.frames)).not.toContain('secret');
  });

  it('with since "$" (or none) sends only events written after the subscription', async () => {
    const workspace = uniqueWorkspace('new');
    const [old] = await server.services.events.append(layerTenant(workspace), actor, [
      memory('memory.fact.added', null, null, 'old'),
    ]);
    const c = await client(workspace);
    const subscribed = await c.subscribe({ since: '$' });
    expect(subscribed).toEqual({ op: 'subscribed', subscription: expect.any(String), from: old });
    const d = await client(workspace);
    await d.subscribe({});
    const [fresh] = await server.services.events.append(layerTenant(workspace), actor, [
      memory('memory.fact.added', null, null, 'new'),
    ]);
    for (const x of [c, d]) {
      await x.waitFor((f) => f.id === fresh);
      expect(x.events.map((e) => e.data.content)).toEqual(['new']);
      expect(x.frames.some((f) => f.op === 'replay.done')).toBe(false);
    }
  });

  it('sends an event once even when several subscriptions of a socket want it, until unsubscribed', async () => {
    const workspace = uniqueWorkspace('multi');
    const c = await client(workspace);
    const a = await c.subscribe({ types: ['memory.*'] });
    const b = await c.subscribe({ user_id: 'alice', types: ['memory.fact.added', 'working.evicted'] });
    expect(a).toEqual({ op: 'subscribed', subscription: 't1', from: '0-0', types: ['memory.*'] });
    expect(b).toMatchObject({ subscription: 't2', user_id: 'alice' });
    const first = await server.services.events.append(layerTenant(workspace), actor, [
      memory('memory.fact.added', 'alice', null, '1'),
      memory('working.evicted', 'alice', null, '2'),
      memory('working.evicted', 'bob', null, '3'),
    ]);
    await c.waitFor((f) => f.id === first[1]);
    c.send({ op: 'unsubscribe', id: 't2' });
    expect(await c.waitFor((f) => f.op === 'unsubscribed')).toEqual({
      op: 'unsubscribed',
      subscription: 't2',
    });
    const [after] = await server.services.events.append(layerTenant(workspace), actor, [
      memory('working.evicted', 'alice', null, '4'),
      memory('memory.fact.added', 'alice', null, '5'),
    ]);
    await c.waitFor((f) => f.data?.content === '5');
    expect(after).toBeDefined();
    expect(c.events.map((e) => e.data.content)).toEqual(['1', '2', '5']);
  });

  it('answers ping with pong', async () => {
    const c = await client(uniqueWorkspace());
    c.send({ op: 'ping' });
    expect(await c.waitFor((f) => f.op === 'pong')).toEqual({ op: 'pong' });
  });

  it('delivers the events of a remember made over HTTP', async () => {
    const workspace = uniqueWorkspace('remember');
    const key = await createLayerKey(server, workspace);
    const c = await connectEvents(server, key);
    open.push(c);
    await c.subscribe({ types: ['memory.*'] });
    const content = `I prefer dark mode. (${Date.now()})`;
    const res = await server.request('POST', '/v1/remember', { token: key, body: { content } });
    expect(res.status).toBeLessThan(300);
    const working = await c.waitFor((f) => f.type === 'memory.working.added');
    const episode = await c.waitFor((f) => f.type === 'memory.episode.added');
    expect(working).toMatchObject({
      workspace,
      actor: { type: 'api_key' },
      data: { content, layer: 'working' },
    });
    expect(episode).toMatchObject({
      workspace,
      data: { content, layer: 'episodic', event: 'agent_response' },
    });
    const fact = await c.waitFor((f) => f.type === 'memory.fact.added');
    expect(fact).toMatchObject({ data: { predicate: 'prefers', object: 'dark mode' } });
  });
});
