import { createHmac } from 'node:crypto';
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

/** The door a request came through (plur.md §1.11). */
export type AuditChannel = 'rest' | 'admin' | 'mcp' | 'scim' | 'webhook' | 'system';

/**
 * Where a call came from, beyond who made it. The transport fills it (REST routes, the MCP endpoint, SCIM,
 * background work); domain code passes it along untouched so every audit entry says how the change arrived.
 */
export interface RequestOrigin {
  channel: AuditChannel;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface AuditEntry {
  id: string;
  ts: string;
  org: string;
  actor: Actor & { username?: string };
  action: string;
  target: { type: string; id: string };
  outcome: AuditOutcome;
  channel: AuditChannel;
  request_id: string;
  ip: string | null;
  user_agent: string | null;
  /** What the action changed or asked for, never a secret or memory content beyond ids and names. */
  payload: Record<string, unknown> | null;
}

export interface AuditContext {
  org: string;
  actor: Actor & { username?: string };
  requestId: string;
  /** Absent: a REST request whose transport details were not passed down. */
  origin?: RequestOrigin | undefined;
}

/** The request an audited call belongs to: its id and, when the transport passes it, its origin. */
export interface RequestContext {
  requestId: string;
  origin?: RequestOrigin | undefined;
}

/** A request context, or only its id (callers that have no origin to pass). */
export type RequestRef = string | RequestContext;

/** Who audit entries name for a caller, and the request: what AuditLog.entry needs. */
export function auditContextOf(
  caller: { org: string; actor: Actor; username?: string | undefined; origin?: RequestOrigin | undefined },
  request: RequestRef | undefined,
): AuditContext {
  const ref: RequestContext =
    request === undefined
      ? { requestId: '' }
      : typeof request === 'string'
        ? { requestId: request }
        : request;
  return {
    org: caller.org,
    actor: caller.username === undefined ? caller.actor : { ...caller.actor, username: caller.username },
    requestId: ref.requestId,
    origin: ref.origin ?? caller.origin,
  };
}

/** Refusals whose code already wrote their own `denied` entry (the transport's denial audit skips them). */
const auditedRefusals = new WeakSet<object>();

/** Marks a refusal as audited where it was raised, so it gets no second, generic `auth.denied` entry. */
export function markAudited<E extends Error>(error: E): E {
  auditedRefusals.add(error);
  return error;
}

export const isAudited = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && auditedRefusals.has(error);

export interface AuditSettings {
  /** Entries kept per organisation (approximate trim). */
  maxLen: number;
  /** Entries older than this are trimmed (XTRIM MINID), at most once a minute per organisation and instance. */
  maxAgeMs: number;
  /** Key of the keyed hash stored instead of a client address; null stores addresses in clear. */
  ipHashKey: Buffer | null;
}

/** How often one instance trims one organisation's stream by age. */
const AGE_TRIM_EVERY_MS = 60_000;

export class AuditLog {
  /** Entries kept per organisation (approximate trim), for the scripts that append entries. */
  readonly maxLen: number;
  private readonly lastAgeTrim = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly settings: AuditSettings,
    private readonly log: Logger,
  ) {
    this.maxLen = settings.maxLen;
  }

  /** The address as stored: in clear, or `h:` and a keyed hash (equal addresses still match each other). */
  storedIp(ip: string | undefined): string | null {
    if (ip === undefined || ip === '') return null;
    const key = this.settings.ipHashKey;
    if (key === null) return ip;
    return `h:${createHmac('sha256', key).update(ip).digest('hex').slice(0, 32)}`;
  }

  entry(
    context: AuditContext,
    action: string,
    target: { type: string; id: string },
    outcome: AuditOutcome = 'success',
    now = new Date(),
    payload: Record<string, unknown> | null = null,
  ): AuditEntry {
    const { actor, origin } = context;
    return {
      id: prefixedId('aud'),
      ts: now.toISOString(),
      org: context.org,
      actor:
        actor.username === undefined
          ? { type: actor.type, id: actor.id }
          : { type: actor.type, id: actor.id, username: actor.username },
      action,
      target,
      outcome,
      channel: origin?.channel ?? 'rest',
      request_id: context.requestId,
      ip: this.storedIp(origin?.ip),
      user_agent: origin?.userAgent ?? null,
      payload,
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
    await this.trimByAge(entry.org);
  }

  /**
   * Records without waiting: for entries written on a request's way out (denials, rate-limit notices), so
   * the audit write neither fails nor delays the answer.
   */
  recordLater(entry: AuditEntry): void {
    void this.record(entry);
  }

  /**
   * Drops entries older than the age limit (XTRIM MINID, exact: it runs rarely). Entries are appended by many scripts; the trim
   * runs here, at most once a minute per organisation on each instance, when entries are recorded or read.
   */
  async trimByAge(org: string, now = Date.now()): Promise<void> {
    const last = this.lastAgeTrim.get(org) ?? 0;
    if (now - last < AGE_TRIM_EVERY_MS) return;
    this.lastAgeTrim.set(org, now);
    try {
      await this.redis.xtrim(this.streamKey(org), 'MINID', `${now - this.settings.maxAgeMs}-0`);
    } catch (err) {
      this.log.warn({ err, org }, 'could not trim the audit stream by age');
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
