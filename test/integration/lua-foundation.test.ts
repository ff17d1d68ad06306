import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomHex } from '../../src/ids.js';
import { Keys } from '../../src/redis/keys.js';
import { ScriptError } from '../../src/redis/script-errors.js';
import { Scripts } from '../../src/redis/scripts.js';

/** Each foundation script against a real redis-server. */
let redis: Redis;
let scripts: Scripts;
const keys = new Keys(`lua${randomHex(4)}`);

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  scripts = new Scripts(redis);
});
afterAll(async () => {
  await redis.quit();
});

describe('rateLimit-2', () => {
  const run = (cred: string, limit: number, secondary = 0, periodMs = 60_000) =>
    scripts.run<number[]>(
      'rateLimit',
      [keys.rateLimitBucket(cred, 'all'), keys.rateLimitBucket(cred, 'write')],
      [limit, periodMs, secondary],
    );

  it('allows the limit, then refuses until the oldest request leaves the window', async () => {
    const cred = randomHex(4);
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await run(cred, 5));
    expect(replies.map((r) => r[0])).toEqual([1, 1, 1, 1, 1]);
    expect(replies.map((r) => r[2])).toEqual([4, 3, 2, 1, 0]);
    const denied = await run(cred, 5);
    expect(denied[0]).toBe(0);
    expect(denied[2]).toBe(0);
    expect(denied[4]).toBeGreaterThan(0);
    expect(denied[4]).toBeLessThanOrEqual(60_000); // a slot frees when the first request is a period old
  });

  it('never lets more than the limit through in any window of one period', async () => {
    // Period 2 s, limit 20, requests sent back to back for just over two periods. Each allowed request
    // was accepted between its send and receive time, so if accepted i and i+20 are a period apart,
    // then receive(i+20) - send(i) >= period. (GCRA failed this: a burst of 20 plus one per 100 ms.)
    const cred = randomHex(4);
    const limit = 20;
    const periodMs = 2000;
    const allowed: { sent: number; received: number }[] = [];
    const until = Date.now() + 2 * periodMs + 300;
    while (Date.now() < until) {
      const sent = Date.now();
      const [ok] = await run(cred, limit, 0, periodMs);
      if (ok === 1) allowed.push({ sent, received: Date.now() });
    }
    expect(allowed.length).toBeGreaterThanOrEqual(2 * limit); // the window slides: every period refills
    const tooClose = allowed
      .slice(limit)
      .filter((later, i) => later.received - (allowed[i] as { sent: number }).sent < periodMs);
    expect(tooClose).toEqual([]);
  });

  it('counts a request in both buckets only when both allow it', async () => {
    const cred = randomHex(4);
    expect((await run(cred, 100, 2))[0]).toBe(1);
    expect((await run(cred, 100, 2))[0]).toBe(1);
    const denied = await run(cred, 100, 2);
    expect(denied[0]).toBe(0);
    expect(denied[1]).toBe(2); // reports the bucket that refused
    // The general bucket was not charged for the refused write: 98 left, one more read makes 97.
    const read = await run(cred, 100, 0);
    expect(read[0]).toBe(1);
    expect(read[2]).toBe(97);
  });

  it('expires its state', async () => {
    const cred = randomHex(4);
    await run(cred, 10);
    const ttl = await redis.pttl(keys.rateLimitBucket(cred, 'all'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000 + 1000);
  });
});

describe('credential scripts', () => {
  const create = (hash: string, id: string, ws: string) =>
    scripts.run<number>(
      'storeCredential',
      [keys.layerKeyByHash(hash), keys.layerKeyById(id), keys.layerKeysOfWorkspace(ws)],
      [hash, id, 1, 'key_id', id, 'workspace_id', ws, 'label', 'label', 'env', 'live'],
    );

  it('storeCredential stores record, pointer and list entry, and refuses a duplicate', async () => {
    const hash = randomHex(32);
    const id = `key_${randomHex(8)}`;
    expect(await create(hash, id, 'w1')).toBe(1);
    expect(await redis.hget(keys.layerKeyByHash(hash), 'workspace_id')).toBe('w1');
    expect(await redis.hget(keys.layerKeyByHash(hash), 'is_active')).toBe('1');
    expect(await redis.get(keys.layerKeyById(id))).toBe(hash);
    expect(await redis.zrange(keys.layerKeysOfWorkspace('w1'), '0', '-1')).toContain(id);
    await expect(create(hash, id, 'w1')).rejects.toMatchObject({ kind: 'conflict' });
  });

  it('storeCredential refuses field lists that are not pairs, writing nothing', async () => {
    const hash = randomHex(32);
    const id = `key_${randomHex(8)}`;
    const odd = scripts.run(
      'storeCredential',
      [keys.layerKeyByHash(hash), keys.layerKeyById(id), keys.layerKeysOfWorkspace('w0')],
      [hash, id, 1, 'key_id'],
    );
    await expect(odd).rejects.toMatchObject({ kind: 'invalid_input' });
    expect(await redis.exists(keys.layerKeyByHash(hash), keys.layerKeyById(id))).toBe(0);
  });

  it('revokeCredential deactivates once, publishes the invalidation, and reports unknown ids', async () => {
    const hash = randomHex(32);
    const id = `key_${randomHex(8)}`;
    await create(hash, id, 'w2');
    const sub = new Redis(inject('redisUrl'));
    const channel = keys.credentialInvalidationChannel();
    const messages: string[] = [];
    await sub.subscribe(channel);
    sub.on('message', (_c: string, m: string) => messages.push(m));
    const args = [hash, '', '', '2026-01-02T00:00:00.000Z', channel, `layer:${hash}`];
    expect(
      await scripts.run('revokeCredential', [keys.layerKeyById(id), keys.layerKeyByHash(hash)], args),
    ).toBe(1);
    expect(
      await scripts.run('revokeCredential', [keys.layerKeyById(id), keys.layerKeyByHash(hash)], args),
    ).toBe(0);
    expect(await redis.hget(keys.layerKeyByHash(hash), 'is_active')).toBe('0');
    await expect.poll(() => messages).toEqual([`layer:${hash}`]);
    await sub.quit();

    const unknown = scripts.run(
      'revokeCredential',
      [keys.layerKeyById('key_none'), keys.layerKeyByHash('none')],
      args,
    );
    await expect(unknown).rejects.toBeInstanceOf(ScriptError);
    await expect(unknown).rejects.toMatchObject({ kind: 'not_found' });
    const wrongHash = scripts.run(
      'revokeCredential',
      [keys.layerKeyById(id), keys.layerKeyByHash(hash)],
      ['other', ...args.slice(1)],
    );
    await expect(wrongHash).rejects.toMatchObject({ kind: 'mismatch' });
  });

  it("revokeCredential treats another owner's credential as unknown and leaves it active", async () => {
    const hash = randomHex(32);
    const id = `key_${randomHex(8)}`;
    await create(hash, id, 'w4');
    const ids = [keys.layerKeyById(id), keys.layerKeyByHash(hash)];
    const revokeAs = (owner: string) =>
      scripts.run('revokeCredential', ids, [hash, 'workspace_id', owner, 'now', 'inv', 'x']);
    await expect(revokeAs('w5')).rejects.toMatchObject({ kind: 'not_found' });
    expect(await redis.hget(keys.layerKeyByHash(hash), 'is_active')).toBe('1');
    expect(await revokeAs('w4')).toBe(1);
  });

  it('touchCredential writes last use only on existing records', async () => {
    const hash = randomHex(32);
    await create(hash, `key_${randomHex(8)}`, 'w3');
    expect(
      await scripts.run('touchCredential', [keys.layerKeyByHash(hash)], ['2026-03-03T00:00:00.000Z']),
    ).toBe(1);
    expect(await redis.hget(keys.layerKeyByHash(hash), 'last_used_at')).toBe('2026-03-03T00:00:00.000Z');
    const missing = keys.layerKeyByHash(randomHex(32));
    expect(await scripts.run('touchCredential', [missing], ['2026-03-03T00:00:00.000Z'])).toBe(0);
    expect(await redis.exists(missing)).toBe(0);
  });

  it('refuses a call with the wrong number of keys before reaching Redis', async () => {
    await expect(scripts.run('touchCredential', [], [])).rejects.toThrow(/takes 1 keys, got 0/);
  });
});
