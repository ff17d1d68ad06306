import { prefixedId } from '../../ids.js';
import type { Logger } from '../../log.js';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import { orgTenant } from '../../tenant.js';
import type { Actor } from '../events.js';

/**
 * The engram API's audit trail (plur.md §1.11): one capped stream per organisation. Changes that must be
 * audited write their entry inside their own Lua script (lua/includes/appendAudit.lua), so an acknowledged
 * action always has its entry; `record` is for entries that accompany no Redis change of the same slot
 * (denied attempts, reads of admin lists, API keys, whose records live under {~auth}) and never throws.
 */
export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEntry {
  id: string;
  ts: string;
  org: string;
  actor: Actor;
  action: string;
  target: { type: string; id: string };
  outcome: AuditOutcome;
  channel: 'rest';
  request_id: string;
}

export interface AuditContext {
  org: string;
  actor: Actor;
  requestId: string;
}

export class AuditLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    /** Entries kept per organisation (approximate trim). */
    readonly maxLen: number,
    private readonly log: Logger,
  ) {}

  entry(
    context: AuditContext,
    action: string,
    target: { type: string; id: string },
    outcome: AuditOutcome = 'success',
    now = new Date(),
  ): AuditEntry {
    return {
      id: prefixedId('aud'),
      ts: now.toISOString(),
      org: context.org,
      actor: { type: context.actor.type, id: context.actor.id },
      action,
      target,
      outcome,
      channel: 'rest',
      request_id: context.requestId,
    };
  }

  /** The audit stream lives in the organisation's tenant (never a layer workspace's). */
  streamKey(org: string): string {
    return this.keys.audit(orgTenant(org));
  }

  /** Appends an entry on its own; failures are logged, never thrown (an audit write must not fail a request). */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.redis.xadd(
        this.streamKey(entry.org),
        'MAXLEN',
        '~',
        this.maxLen,
        '*',
        'e',
        JSON.stringify(entry),
      );
    } catch (err) {
      this.log.error({ err, action: entry.action, org: entry.org }, 'could not write an audit entry');
    }
  }

  /** The newest entries of an organisation, newest first. */
  async recent(org: string, count = 100): Promise<AuditEntry[]> {
    const rows = (await this.redis.xrevrange(this.streamKey(org), '+', '-', 'COUNT', count)) as [
      string,
      string[],
    ][];
    const out: AuditEntry[] = [];
    for (const [, fields] of rows) {
      const at = fields.indexOf('e');
      if (at >= 0) out.push(JSON.parse(fields[at + 1] as string) as AuditEntry);
    }
    return out;
  }
}
