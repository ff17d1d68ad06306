import type { RedisHealth } from './redis/health.js';
import type { Scripts } from './redis/scripts.js';

/** What GET /readyz reports: each check is "ok" or says what is wrong. */
export interface ReadinessReport {
  ready: boolean;
  checks: { redis: string; scripts: string; shutdown: string };
}

/**
 * Whether this instance should get traffic: Redis answers, Redis holds our Lua scripts, and the instance
 * is not shutting down. Liveness (the process runs) is not this: a live instance may be unready for a
 * while (Redis down) and must not be restarted for it. `/health` keeps its reference shape separately.
 */
export class Readiness {
  private shuttingDown = false;

  constructor(
    private readonly redis: RedisHealth,
    private readonly scripts: Scripts,
  ) {}

  /** From now on the instance reports itself unready (set first thing at shutdown). */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  async check(): Promise<ReadinessReport> {
    const shutdown = this.shuttingDown ? 'shutting down' : 'ok';
    const redisUp = await this.redis.ok();
    let scripts = 'not checked: redis unreachable';
    if (redisUp) {
      try {
        await this.scripts.ensureLoaded();
        scripts = 'ok';
      } catch (err) {
        scripts = `not loaded: ${(err as Error).message}`;
      }
    }
    const redis = redisUp ? 'ok' : 'unreachable';
    return {
      ready: redisUp && scripts === 'ok' && !this.shuttingDown,
      checks: { redis, scripts, shutdown },
    };
  }
}
