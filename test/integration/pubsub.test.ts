import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { createLogger } from '../../src/log.js';
import { PubSub } from '../../src/redis/pubsub.js';

/**
 * One PubSub holds global channels (SUBSCRIBE) and shard channels (SSUBSCRIBE) at once. Redis answers
 * SUNSUBSCRIBE with the count of shard channels only: on one shared connection a 0 there made ioredis leave
 * subscriber mode, and the global channels (credential invalidations) went unheard from then on.
 */
let global: Redis;
let shard: Redis;
let publisher: Redis;

beforeAll(() => {
  global = new Redis(inject('redisUrl'));
  shard = new Redis(inject('redisUrl'));
  publisher = new Redis(inject('redisUrl'));
});
afterAll(() => {
  for (const client of [global, shard, publisher]) client.disconnect();
});

describe('PubSub', () => {
  it('keeps hearing a global channel after its last shard channel is unsubscribed', async () => {
    const pubsub = new PubSub(global, createLogger('silent'), shard);
    const globalChannel = `g:${randomHex(4)}`;
    const shardChannel = `s:{${randomHex(4)}}`;
    const heard: string[] = [];
    await pubsub.subscribe(globalChannel, (m) => heard.push(`g ${m}`));
    const onShard = (m: string) => heard.push(`s ${m}`);
    await pubsub.ssubscribe(shardChannel, onShard);
    await publisher.spublish(shardChannel, 'one');
    await expect.poll(() => heard).toEqual(['s one']);
    await pubsub.unsubscribe(shardChannel, onShard);
    await publisher.publish(globalChannel, 'two');
    await expect.poll(() => heard).toEqual(['s one', 'g two']);
  });

  it('refuses a standalone client without a second connection for shard channels', () => {
    expect(() => new PubSub(global, createLogger('silent'))).toThrow(/second connection/);
  });
});
