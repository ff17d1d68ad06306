import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLayerKey, startServer, uniqueWorkspace, type TestServer } from '../helpers/server.js';
import { connectEvents, type EventClient } from '../helpers/ws.js';
import { layerTenant } from '../../src/tenant.js';

/** Bad client input gets an error frame and the socket stays usable; limits are enforced. */
let server: TestServer;
let client: EventClient;
let workspace: string;

beforeAll(async () => {
  server = await startServer({ wsMaxSubscriptionsPerSocket: 3, wsMaxPayloadBytes: 1024 });
  workspace = uniqueWorkspace('proto');
  client = await connectEvents(server, await createLayerKey(server, workspace));
});
afterAll(async () => {
  await client.close();
  await server.close();
});

/** Sends `message` and resolves with the next error frame; then proves the socket still answers. */
async function errorFor(message: unknown, c: EventClient = client): Promise<Record<string, unknown>> {
  const before = c.frames.length;
  c.send(message);
  const error = await c.waitFor((f) => f.op === 'error' && c.frames.indexOf(f) >= before);
  const pongs = c.frames.filter((f) => f.op === 'pong').length;
  c.send({ op: 'ping' });
  await expect.poll(() => c.frames.filter((f) => f.op === 'pong').length).toBe(pongs + 1);
  return error;
}

describe('bad client messages', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['invalid JSON', '{"op": "subscribe"', 'invalid_json', /not valid JSON/],
    ['a JSON array', '[]', 'invalid_message', /JSON object with an op/],
    ['no op', { types: ['*'] }, 'unknown_op', /op must be one of: subscribe, unsubscribe, ping/],
    ['an unknown op', { op: 'publish', data: {} }, 'unknown_op', /op must be one of/],
    ['types not an array', { op: 'subscribe', types: 'memory.*' }, 'invalid_message', /types must be array/],
    [
      'a malformed type',
      { op: 'subscribe', types: ['memory.*.added'] },
      'invalid_message',
      /types.0 must be/,
    ],
    ['user_id a number', { op: 'subscribe', user_id: 42 }, 'invalid_message', /user_id must be string/],
    ['an unknown field', { op: 'subscribe', scope: 'x' }, 'invalid_message', /scope is not allowed/],
    [
      'an invalid since',
      { op: 'subscribe', since: 'yesterday' },
      'invalid_message',
      /since must be an event id/,
    ],
    ['since a number', { op: 'subscribe', since: 17 }, 'invalid_message', /since must be string/],
    ['unsubscribe without id', { op: 'unsubscribe' }, 'invalid_message', /id is required/],
  ];
  for (const [name, message, code, text] of cases) {
    it(`answers ${name} with an error frame`, async () => {
      const error = await errorFor(message);
      expect(error).toEqual({ op: 'error', code, message: expect.stringMatching(text) });
    });
  }

  it('answers a binary frame with an error frame', async () => {
    const before = client.frames.length;
    client.ws.send(Buffer.from('{"op":"ping"}'), { binary: true });
    const error = await client.waitFor((f) => f.op === 'error' && client.frames.indexOf(f) >= before);
    expect(error).toMatchObject({ code: 'invalid_message', message: expect.stringMatching(/Binary frames/) });
  });

  it('answers an oversized message with an error frame, and drops a connection sending a huge one', async () => {
    const error = await errorFor({ op: 'subscribe', user_id: 'u'.repeat(2000) });
    expect(error).toEqual({
      op: 'error',
      code: 'message_too_large',
      message: 'Messages are limited to 1024 bytes',
    });
    const other = await connectEvents(server, await createLayerKey(server, workspace));
    other.send('x'.repeat(5000));
    expect((await other.closed).code).toBe(1006);
  });

  it('refuses an unknown subscription id and a duplicate one', async () => {
    expect(await errorFor({ op: 'unsubscribe', id: 'nope' })).toEqual({
      op: 'error',
      code: 'unknown_subscription',
      message: 'No subscription nope on this socket',
      subscription: 'nope',
    });
    const c = await connectEvents(server, await createLayerKey(server, workspace));
    await c.subscribe({ id: 'dup' });
    expect(await errorFor({ op: 'subscribe', id: 'dup' }, c)).toMatchObject({
      code: 'duplicate_subscription',
      subscription: 'dup',
    });
    await c.close();
  });

  it('caps subscriptions per socket', async () => {
    const c = await connectEvents(server, await createLayerKey(server, workspace));
    for (const id of ['a', 'b', 'c']) await c.subscribe({ id });
    expect(await errorFor({ op: 'subscribe', id: 'd' }, c)).toEqual({
      op: 'error',
      code: 'too_many_subscriptions',
      message: 'A socket may hold at most 3 subscriptions',
      subscription: 'd',
    });
    c.send({ op: 'unsubscribe', id: 'b' });
    await c.waitFor((f) => f.op === 'unsubscribed' && f.subscription === 'b');
    await c.subscribe({ id: 'd' });
    await c.close();
  });

  it('refuses a since newer than the newest event of the workspace', async () => {
    const own = uniqueWorkspace('future');
    const c = await connectEvents(server, await createLayerKey(server, own));
    const [last] = await server.services.events.append(layerTenant(own), { type: 'system', id: 'mnemo' }, [
      { type: 'memory.fact.added', data: {} },
    ]);
    const future = `${Number(last!.split('-')[0]) + 60_000}-0`;
    expect(await errorFor({ op: 'subscribe', id: 'f', since: future }, c)).toEqual({
      op: 'error',
      code: 'since_unknown',
      message: `since ${future} is newer than the newest event of this workspace (${last})`,
      subscription: 'f',
    });
    // An empty workspace has no events to resume after, except from the start.
    const empty = await connectEvents(server, await createLayerKey(server, uniqueWorkspace('empty')));
    expect((await errorFor({ op: 'subscribe', since: '1-0' }, empty)).code).toBe('since_unknown');
    expect(await empty.subscribe({ id: 'z', since: '0-0' })).toMatchObject({ from: '0-0' });
    await empty.waitFor((f) => f.op === 'replay.done' && f.subscription === 'z');
    await Promise.all([c.close(), empty.close()]);
  });

  it('refuses a since older than what the socket already delivered', async () => {
    const own = uniqueWorkspace('behind');
    const c = await connectEvents(server, await createLayerKey(server, own));
    await c.subscribe({ id: 'live' });
    const ids = await server.services.events.append(layerTenant(own), { type: 'system', id: 'mnemo' }, [
      { type: 'memory.fact.added', data: {} },
      { type: 'memory.fact.added', data: {} },
    ]);
    await c.waitFor((f) => f.id === ids[1]);
    expect(await errorFor({ op: 'subscribe', id: 'old', since: ids[0] }, c)).toMatchObject({
      code: 'since_behind',
      subscription: 'old',
      message: expect.stringContaining(ids[1]!),
    });
    await c.close();
  });
});
