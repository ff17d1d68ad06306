import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { EventLog } from '../../src/memory/event-log.js';
import { SYSTEM_ACTOR, compareStreamIds } from '../../src/memory/events.js';
import { Keys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { layerTenant } from '../../src/tenant.js';

/** appendEvents-1 and readEvents-1 (and the appendEvent include every write script uses). */
let redis: Redis;
let sub: Redis;
let log: EventLog;
const keys = new Keys(`ev${randomHex(4)}`);

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  sub = new Redis(inject('redisUrl'));
  log = new EventLog(redis, new Scripts(redis), keys, 1000);
});
afterAll(async () => {
  await Promise.all([redis.quit(), sub.quit()]);
});

describe('workspace events', () => {
  it('appends in order, publishes the exact envelope, and reads it back identically', async () => {
    const ws = `w${randomHex(3)}`;
    const published: string[] = [];
    await sub.ssubscribe(keys.eventChannel(layerTenant(ws)));
    sub.on('smessage', (_c: string, m: string) => published.push(m));

    const ids = await log.append(layerTenant(ws), { type: 'api_key', id: 'key_1' }, [
      { type: 'memory.working.added', data: { id: 'a', content: 'quote " and \\ backslash / slash é 日本' } },
      { type: 'working.evicted', data: { id: 'b' } },
    ]);
    expect(ids).toHaveLength(2);
    expect(compareStreamIds(ids[0]!, ids[1]!)).toBeLessThan(0);

    await expect.poll(() => published.length).toBe(2);
    const first = JSON.parse(published[0]!);
    expect(first).toEqual({
      id: ids[0],
      type: 'memory.working.added',
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      workspace: ws,
      actor: { type: 'api_key', id: 'key_1' },
      data: { id: 'a', content: 'quote " and \\ backslash / slash é 日本' },
    });

    const page = await log.read(layerTenant(ws), '0-0', 10);
    expect(page.events.map((e) => e.json)).toEqual(published);
    expect(page.events.map((e) => e.type)).toEqual(['memory.working.added', 'working.evicted']);
    expect(page).toMatchObject({ entriesAdded: 2, length: 2, firstId: ids[0], lastId: ids[1] });

    const after = await log.read(layerTenant(ws), ids[0]!, 10);
    expect(after.events.map((e) => e.id)).toEqual([ids[1]]);
    expect(await log.lastId(layerTenant(ws))).toBe(ids[1]);
  });

  it('reports counters that reveal trimming', async () => {
    const ws = `w${randomHex(3)}`;
    const small = new EventLog(redis, new Scripts(redis), keys, 1000);
    for (let i = 0; i < 30; i++) {
      await small.append(
        layerTenant(ws),
        SYSTEM_ACTOR,
        Array.from({ length: 100 }, (_, j) => ({ type: 't.x', data: { i, j } })),
      );
    }
    const page = await small.read(layerTenant(ws), '0-0', 5);
    expect(page.entriesAdded).toBe(3000);
    expect(page.length).toBeLessThan(3000);
    expect(page.length).toBeGreaterThanOrEqual(1000);
    expect(page.events[0]!.id).toBe(page.firstId);
  });

  it('reads an empty page for a workspace without events', async () => {
    const page = await log.read(layerTenant(`none${randomHex(3)}`), '0-0', 10);
    expect(page).toEqual({ events: [], entriesAdded: 0, length: 0, firstId: '', lastId: '' });
    expect(await log.lastId(layerTenant(`none${randomHex(3)}`))).toBe('0-0');
  });
});
