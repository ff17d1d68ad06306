import { orgTenant } from '../../tenant.js';
import { duplicateKey } from '../duplicate-text.js';
import { ENGRAM_STATUSES, type EngramStatus } from '../engrams/model.js';
import type { IndexManager } from '../search/index-manager.js';
import type { DeliveryState } from '../webhooks/webhook-model.js';
import type { WebhookStore } from '../webhooks/webhook-store.js';
import type { ActivityCounters, DailyCounters } from './activity-counters.js';

/**
 * GET /api/v1/admin/insights: one organisation's overview (plur.md §1.11), from what is kept as it happens.
 * - Volume, denials and active users come from the per-day counters (activity-counters.ts).
 * - Engram counts and health come from the organisation's search index, which already holds every
 *   engram's public document and is caught up with the event stream first (as GET /engrams lists): one
 *   pass over the documents (~5 ms of CPU at 10k engrams), no Redis read per engram, reused while the
 *   index has applied no new event. The figures (README, `npm run bench -- --only insights`) chose this
 *   over per-status counters that every engram script would have to maintain.
 * - Webhook figures come from the webhooks' records and their capped delivery logs.
 */
export interface InsightsReport {
  org_id: string;
  days: number;
  generated_at: string;
  active_users: { last_7_days: number; last_30_days: number };
  engrams: {
    total: number;
    by_scope: { scope: string; count: number }[];
    by_status: Record<EngramStatus, number>;
  };
  daily: DailyCounters[];
  health: {
    never_retrieved: number;
    net_negative_feedback: number;
    validity_expired: number;
    candidates_waiting: number;
    near_duplicates: number;
  };
  webhooks: {
    endpoints: number;
    endpoints_failing: number;
    deliveries: { delivered: number; failed: number; pending: number };
  };
}

/** The normalised statement of an index record, computed once per stored version (records are replaced on change). */
const statementKeys = new WeakMap<object, string>();

type EngramFigures = Pick<InsightsReport, 'engrams' | 'health'>;

/**
 * The last figures of an index (a rebuilt index is a new object), good while the index has applied no
 * further event and no engram's valid_until has been reached since: then they are exactly what a new pass
 * would count.
 */
interface CachedFigures {
  lastEventId: string;
  /** The earliest valid_until still ahead when they were counted (ms; Infinity when none). */
  goodUntil: number;
  figures: EngramFigures;
}
const figuresOf = new WeakMap<object, CachedFigures>();

export class Insights {
  constructor(
    private readonly indexes: IndexManager,
    private readonly counters: ActivityCounters,
    private readonly webhooks: WebhookStore,
    private readonly deliveryLogSize: number,
  ) {}

  async report(org: string, days: number, now = new Date()): Promise<InsightsReport> {
    const tenant = orgTenant(org);
    const [engramFigures, daily, activeUsers, webhooks] = await Promise.all([
      this.engramFigures(org, now),
      this.counters.daily(tenant, days, now),
      this.counters.activeUsers(tenant, now),
      this.webhookFigures(org),
    ]);
    return {
      org_id: org,
      days,
      generated_at: now.toISOString(),
      active_users: activeUsers,
      engrams: engramFigures.engrams,
      daily,
      health: engramFigures.health,
      webhooks,
    };
  }

  private async engramFigures(org: string, now: Date): Promise<EngramFigures> {
    const index = await this.indexes.fresh(orgTenant(org));
    const nowMs = now.getTime();
    const cached = figuresOf.get(index);
    if (cached && cached.lastEventId === index.lastEventId && nowMs < cached.goodUntil) return cached.figures;
    const lastEventId = index.lastEventId;
    const byStatus = Object.fromEntries(ENGRAM_STATUSES.map((s) => [s, 0])) as Record<EngramStatus, number>;
    const byScope = new Map<string, number>();
    const health = {
      never_retrieved: 0,
      net_negative_feedback: 0,
      validity_expired: 0,
      candidates_waiting: 0,
      near_duplicates: 0,
    };
    // Normalised statement -> how many live engrams (not retired) say it.
    const statements = new Map<string, number>();
    let goodUntil = Infinity;
    let total = 0;
    for (const doc of index.documents(['engram'])) {
      const r = doc.record;
      const status = r.status as EngramStatus;
      if (!(status in byStatus) || typeof r.scope !== 'string') continue;
      total++;
      byStatus[status]++;
      byScope.set(r.scope, (byScope.get(r.scope) ?? 0) + 1);
      if (status === 'retired') continue;
      if (status === 'candidate') health.candidates_waiting++;
      if (status === 'active' && !(Number(r.frequency) > 0) && !(Number(r.injection_count) > 0))
        health.never_retrieved++;
      const signals = r.feedback_signals as { positive?: unknown; negative?: unknown } | undefined;
      if (signals && Number(signals.negative ?? 0) > Number(signals.positive ?? 0))
        health.net_negative_feedback++;
      if (typeof r.valid_until === 'string') {
        const until = Date.parse(r.valid_until);
        if (until <= nowMs) health.validity_expired++;
        else if (until < goodUntil) goodUntil = until;
      }
      if (typeof r.statement === 'string') {
        let key = statementKeys.get(r);
        if (key === undefined) {
          key = duplicateKey(r.statement);
          statementKeys.set(r, key);
        }
        const seen = statements.get(key) ?? 0;
        statements.set(key, seen + 1);
        // The second engram saying it makes two that have a duplicate; every further one adds one.
        if (seen === 1) health.near_duplicates += 2;
        else if (seen > 1) health.near_duplicates++;
      }
    }
    const figures: EngramFigures = {
      engrams: {
        total,
        by_scope: [...byScope]
          .map(([scope, count]) => ({ scope, count }))
          .sort((a, b) => b.count - a.count || (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0)),
        by_status: byStatus,
      },
      health,
    };
    figuresOf.set(index, { lastEventId, goodUntil, figures });
    return figures;
  }

  private async webhookFigures(org: string): Promise<InsightsReport['webhooks']> {
    const tenant = orgTenant(org);
    const hooks = await this.webhooks.list(tenant);
    const logs = await Promise.all(
      hooks.map((hook) => this.webhooks.deliveries(tenant, hook.config.id, this.deliveryLogSize)),
    );
    const deliveries = { delivered: 0, failed: 0, pending: 0 };
    const bucket: Record<DeliveryState, keyof typeof deliveries | null> = {
      delivered: 'delivered',
      failed: 'failed',
      queued: 'pending',
      retrying: 'pending',
      skipped: null,
    };
    for (const log of logs) {
      for (const delivery of log) {
        const counted = bucket[delivery.state];
        if (counted) deliveries[counted]++;
      }
    }
    return {
      endpoints: hooks.length,
      endpoints_failing: hooks.filter((h) => !h.health.active || h.health.failingSince !== null).length,
      deliveries,
    };
  }
}
