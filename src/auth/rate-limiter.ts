import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import type { RatePolicy } from './principal.js';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the tighter bucket's whole quota is free again (RateLimit-Reset). */
  resetSeconds: number;
  /** Seconds to wait before retrying (Retry-After); 0 when allowed. */
  retryAfterSeconds: number;
}

const PERIOD_MS = 60_000;

/**
 * Per-credential rate limiting with one atomic Lua call (an exact sliding log, lua/rateLimit-2.lua): in
 * any window of PERIOD_MS at most the stated limit passes, across all instances. Every face uses it; a
 * write-heavy request is checked against the general and the write bucket together and counted in both
 * only when both allow it.
 */
export class RateLimiter {
  constructor(
    private readonly scripts: Scripts,
    private readonly keys: Keys,
  ) {}

  async check(policy: RatePolicy, writeHeavy: boolean): Promise<RateDecision> {
    const secondary = writeHeavy && policy.writeRpm !== undefined ? policy.writeRpm : 0;
    const [allowed, limit, remaining, resetMs, retryAfterMs] = await this.scripts.run<number[]>(
      'rateLimit',
      [
        this.keys.rateLimitBucket(policy.credentialId, 'all'),
        this.keys.rateLimitBucket(policy.credentialId, 'write'),
      ],
      [policy.rpm, PERIOD_MS, secondary],
    );
    return {
      allowed: allowed === 1,
      limit: limit ?? policy.rpm,
      remaining: Math.max(0, remaining ?? 0),
      resetSeconds: Math.max(0, Math.ceil((resetMs ?? 0) / 1000)),
      retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil((retryAfterMs ?? 0) / 1000)),
    };
  }
}
