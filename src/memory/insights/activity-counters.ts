import type { Logger } from '../../log.js';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import type { Scripts } from '../../redis/scripts.js';
import type { Tenant } from '../../tenant.js';
import type { AuditEntry } from '../audit/audit-log.js';
import { dayOf } from '../engrams/model.js';

/**
 * The per-day counters GET /api/v1/admin/insights reads, written as things happen (never by scanning):
 * one HASH per organisation and UTC day (recall, inject, learn, auth_failures, rate_limited) and one
 * HyperLogLog per day of the users that made an authenticated request (12 KB at most however many users;
 * PFCOUNT of several days counts their union, within 0.81% and exact in practice for small counts). Both live in the organisation's tenant (its
 * hash tag, so one cluster slot) and expire INSIGHT_TTL_SECONDS after their last write, beyond the longest
 * window asked for (90 days).
 *
 * Learn is counted by the create script itself (lua/createEngram-7.lua). Reads and denials are summed in
 * memory and written every FLUSH_MS, one pipelined HINCRBY per organisation and day, never awaited by a
 * request: a counter write never delays or fails the request it counts, and a busy instance sends one
 * write per organisation a tick instead of one per request (`npm run bench -- --only engram`, inject on
 * 10k engrams at concurrency 32, 2 cores: 224 req/s with a write per request, 305 batched, 318 before
 * insights existed). Reads of the counters flush this instance first.
 * Up to FLUSH_MS of counts are lost if the process dies, or while Redis is away (logged and forgotten).
 */
export const INSIGHT_TTL_SECONDS = 100 * 86_400;
export const MAX_INSIGHT_DAYS = 90;
export const INSIGHT_COUNTERS = ['recall', 'inject', 'learn', 'auth_failures', 'rate_limited'] as const;
export type InsightCounter = (typeof INSIGHT_COUNTERS)[number];

/** How long this instance skips re-marking a user active (SADD is idempotent; this only saves traffic). */
const ACTIVE_MEMO_MS = 60_000;
const ACTIVE_MEMO_MAX = 10_000;
/** The rate-limit minute counters outlive their minute a little (clock skew between instances). */
const MINUTE_TTL_SECONDS = 120;
/** How long counts wait in memory before they are written. */
const FLUSH_MS = 250;

/** What recall and inject need of the counters. */
export interface ReadCounter {
  count(tenant: Tenant, counter: 'recall' | 'inject'): void;
}

export class ActivityCounters implements ReadCounter {
  private readonly activeMemo = new Map<string, number>();
  /** Counts not written yet: day key -> counter -> amount. */
  private pending = new Map<string, Map<string, number>>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keys: Keys,
    private readonly log: Logger,
    private readonly auditMaxLen: number,
  ) {}

  /** Adds one to a counter of today (recall, inject, auth_failures); never throws, never waits. */
  count(tenant: Tenant, counter: Exclude<InsightCounter, 'learn'>, now = new Date()): void {
    const key = this.keys.insightDay(tenant, dayOf(now));
    let fields = this.pending.get(key);
    if (!fields) {
      fields = new Map();
      this.pending.set(key, fields);
    }
    fields.set(counter, (fields.get(counter) ?? 0) + 1);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /**
   * Writes the counts waiting in memory: one pipeline per day key (each key is one organisation's, so each
   * pipeline stays on one cluster slot). Never throws.
   */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await Promise.all(
      [...batch].map(async ([key, fields]) => {
        const pipeline = this.redis.pipeline();
        for (const [field, amount] of fields) pipeline.hincrby(key, field, amount);
        pipeline.expire(key, INSIGHT_TTL_SECONDS);
        try {
          this.failed(await pipeline.exec(), [...fields.keys()].join(','));
        } catch (err) {
          this.log.warn({ err }, 'could not count an insight');
        }
      }),
    );
  }

  /** Marks a user active today (at most once a minute per instance; PFADD is idempotent); never throws, never waits. */
  markActive(tenant: Tenant, userId: string, now = new Date()): void {
    const day = dayOf(now);
    const memo = `${tenant}\n${userId}\n${day}`;
    const at = now.getTime();
    const until = this.activeMemo.get(memo);
    if (until !== undefined && until > at) return;
    if (this.activeMemo.size >= ACTIVE_MEMO_MAX) this.activeMemo.clear();
    this.activeMemo.set(memo, at + ACTIVE_MEMO_MS);
    const key = this.keys.insightUsers(tenant, day);
    this.redis
      .pipeline()
      .pfadd(key, userId)
      .expire(key, INSIGHT_TTL_SECONDS)
      .exec()
      .then((replies) => this.failed(replies, 'active_users'))
      .catch((err: unknown) => {
        this.activeMemo.delete(memo);
        this.log.warn({ err }, 'could not mark a user active');
      });
  }

  /**
   * Counts one 429 of a credential (lua/recordRateLimited-3.lua): `entry` is written to the audit trail
   * only by the credential's first rejection of the minute. Never throws, never waits.
   */
  rateLimited(tenant: Tenant, credentialId: string, entry: AuditEntry, now = new Date()): void {
    const minute = Math.floor(now.getTime() / 60_000);
    this.scripts
      .run<number>(
        'recordRateLimited',
        [
          this.keys.rateLimitedMinute(tenant, credentialId, minute),
          this.keys.insightDay(tenant, dayOf(now)),
          this.keys.audit(tenant),
        ],
        [JSON.stringify(entry), this.auditMaxLen, INSIGHT_TTL_SECONDS, MINUTE_TTL_SECONDS],
      )
      .catch((err: unknown) => this.log.warn({ err }, 'could not record a rate-limit rejection'));
  }

  /** The counters of `days` UTC days ending with `now`'s, oldest first (missing days and fields are 0). */
  async daily(tenant: Tenant, days: number, now = new Date()): Promise<DailyCounters[]> {
    await this.flush();
    const dates = daysEndingAt(now, days);
    const pipeline = this.redis.pipeline();
    for (const date of dates) pipeline.hgetall(this.keys.insightDay(tenant, date));
    const replies = (await pipeline.exec()) ?? [];
    return dates.map((date, i) => {
      const [err, hash] = replies[i] ?? [null, {}];
      if (err) throw err;
      const fields = hash as Record<string, string>;
      const row = { date } as DailyCounters;
      for (const counter of INSIGHT_COUNTERS) row[counter] = Number(fields[counter] ?? 0) || 0;
      return row;
    });
  }

  /** Distinct users active over the last 7 and the last 30 UTC days (today included). */
  async activeUsers(
    tenant: Tenant,
    now = new Date(),
  ): Promise<{ last_7_days: number; last_30_days: number }> {
    // Newest first: the week is the first seven. PFCOUNT of several keys counts their union.
    const keys = daysEndingAt(now, 30)
      .reverse()
      .map((date) => this.keys.insightUsers(tenant, date));
    const replies =
      (await this.redis
        .pipeline()
        .pfcount(...keys.slice(0, 7))
        .pfcount(...keys)
        .exec()) ?? [];
    const [week, month] = replies.map(([err, value]) => {
      if (err) throw err;
      return Number(value);
    });
    return { last_7_days: week ?? 0, last_30_days: month ?? 0 };
  }

  private failed(replies: [Error | null, unknown][] | null, counter: string): void {
    const err = replies?.find(([e]) => e !== null)?.[0];
    if (err) this.log.warn({ err, counter }, 'could not count an insight');
  }
}

export type DailyCounters = { date: string } & Record<InsightCounter, number>;

/** The `days` UTC dates (YYYY-MM-DD) ending with `now`'s, oldest first. */
export function daysEndingAt(now: Date, days: number): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const out: string[] = [];
  for (let i = days - 1; i >= 0; i--) out.push(dayOf(new Date(today - i * 86_400_000)));
  return out;
}
