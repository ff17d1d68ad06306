import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { FILE_PREFIX } from './server.js';

/**
 * A digest of every key and value under this test file's key prefix (DUMP of each key, so every type and
 * every field counts), for asserting that a refused request changed nothing. Left out: keys that change by
 * design on every request whatever its fate (rate-limit buckets, failed-authentication counters) and
 * BullMQ's own bookkeeping.
 */
const VOLATILE = [/:\{~rl:/, /:\{~authfail:/, /:\{~bull\}/];

export class RedisDigest {
  private readonly redis = new Redis(inject('redisUrl'), { lazyConnect: false });

  async take(): Promise<string> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${FILE_PREFIX}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch.filter((k) => !VOLATILE.some((pattern) => pattern.test(k))));
    } while (cursor !== '0');
    keys.sort();
    const hash = createHash('sha256');
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.dumpBuffer(key);
    const dumps = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      hash.update(key).update('\0');
      const dump = dumps[i]?.[1];
      if (Buffer.isBuffer(dump)) hash.update(dump);
      hash.update('\0');
    });
    return `${keys.length}:${hash.digest('hex')}`;
  }

  /** Waits (bounded) until two digests in a row agree, for writes that land off the request path. */
  async settled(attempts = 50): Promise<string> {
    let last = await this.take();
    for (let i = 0; i < attempts; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const next = await this.take();
      if (next === last) return next;
      last = next;
    }
    throw new Error('Redis kept changing: nothing to compare against');
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
