import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { MIN_REDIS_VERSION, redisVersionOf, requireRedisVersion } from '../../src/redis/clients.js';

/** The version mnemo reads from `INFO server` at startup, to refuse a Redis without SPUBLISH. */
describe('redisVersionOf', () => {
  it('reads redis_version from an INFO server reply', () => {
    const info = '# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_mode:cluster\r\n';
    expect(redisVersionOf(info)).toBe('7.0.15');
    expect(redisVersionOf('# Server\r\nredis_version:6.2.14\r\n')).toBe('6.2.14');
  });

  it('finds nothing in a reply that names no version', () => {
    expect(redisVersionOf('# Server\r\nredis_mode:standalone\r\n')).toBeUndefined();
    expect(redisVersionOf('')).toBeUndefined();
  });

  it('accepts the test Redis (7.0 or newer) and answers its version', async () => {
    const redis = new Redis(inject('redisUrl'));
    try {
      const version = await requireRedisVersion(redis);
      expect(Number(version?.split('.')[0])).toBeGreaterThanOrEqual(MIN_REDIS_VERSION);
    } finally {
      redis.disconnect();
    }
  });
});
