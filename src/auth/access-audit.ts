import { isMnemoError } from '../errors.js';
import { isAudited, type AuditLog, type AuditChannel } from '../memory/audit/audit-log.js';
import type { Actor } from '../memory/events.js';
import type { ActivityCounters } from '../memory/insights/activity-counters.js';
import { orgTenant } from '../tenant.js';
import { refusedCredentialOf } from './credential-errors.js';
import type { EngramPrincipal } from './principal.js';

/** The request an access decision was about, as the transport saw it. */
export interface ObservedRequest {
  requestId: string;
  ip: string;
  userAgent: string | undefined;
  /** The transport: REST (/api/v1) or the MCP endpoint. */
  via: 'rest' | 'mcp';
  /** What was asked: `GET /api/v1/admin/insights` (no query string), or `tools/plur_recall` on MCP. */
  target: string;
}

/**
 * What the transports tell about access on the engram face (/api/v1 and /mcp). Every method returns at
 * once and never throws: what it writes (audit entries, insight counters) is written after the answer's
 * fate is decided and never delays it.
 */
export interface AccessObserver {
  /** A request passed authentication: its user is active today. */
  authenticated(principal: unknown): void;
  /** A request is answered 401 or 403 because of `error`; `principal` when it had authenticated. */
  denied(error: unknown, principal: unknown, request: ObservedRequest): void;
  /** A request is answered 429 by the credential's rate limit. */
  rateLimited(principal: unknown, limit: number, request: ObservedRequest): void;
}

const USER_AGENT_MAX = 256;

const isEngramPrincipal = (value: unknown): value is EngramPrincipal =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'engram';

/**
 * Denial and rate-limit audit of the engram face, and its active-user counter:
 * - a 401 whose credential is known (a revoked or expired key, a deactivated user: engram-auth notes whose
 *   it was) and a 403 of an authenticated caller get an `auth.denied` entry (`outcome: denied`) in that
 *   organisation's trail, naming the key or credential id, never the secret; a 401 also counts in the
 *   organisation's `auth_failures` of the day. A 401 of an unknown credential belongs to no organisation:
 *   only the per-address failed-authentication limiter counts it. Refusals that already wrote their own
 *   entry where they were raised (the admin guard, pin permissions) get no second one.
 * - a 429 counts in the organisation's `rate_limited` of the day, and the credential's first 429 of each
 *   minute writes one `rate_limit.exceeded` entry (lua/recordRateLimited-3.lua), not one per 429.
 */
export class AccessAudit implements AccessObserver {
  constructor(
    private readonly audit: AuditLog,
    private readonly counters: ActivityCounters,
  ) {}

  authenticated(principal: unknown): void {
    if (!isEngramPrincipal(principal) || principal.userId === null) return;
    this.counters.markActive(principal.tenant, principal.userId);
  }

  denied(error: unknown, principal: unknown, request: ObservedRequest): void {
    if (!isMnemoError(error) || isAudited(error)) return;
    if (error.code !== 'unauthorized' && error.code !== 'forbidden') return;
    const status = error.status;
    if (isEngramPrincipal(principal)) {
      if (status === 401) this.counters.count(principal.tenant, 'auth_failures');
      this.write(principal.org, actorOf(principal), channelOf(principal, request), request, {
        status,
        credential_id: principal.credentialId,
        key_id: principal.keyId,
        reason: status === 403 ? 'insufficient_permission' : 'refused',
      });
      return;
    }
    const refused = refusedCredentialOf(error);
    if (!refused) return;
    this.counters.count(orgTenant(refused.org), 'auth_failures');
    const actor: Actor =
      refused.userId !== null
        ? { type: 'user', id: refused.userId }
        : { type: 'api_key', id: refused.keyId ?? refused.credentialId };
    this.write(refused.org, actor, request.via, request, {
      status,
      credential_id: refused.credentialId,
      key_id: refused.keyId,
      reason: refused.reason,
    });
  }

  rateLimited(principal: unknown, limit: number, request: ObservedRequest): void {
    if (!isEngramPrincipal(principal)) return;
    const now = new Date();
    const entry = this.audit.entry(
      {
        org: principal.org,
        actor: actorOf(principal),
        requestId: request.requestId,
        origin: originOf(channelOf(principal, request), request),
      },
      'rate_limit.exceeded',
      { type: 'credential', id: principal.credentialId },
      'denied',
      now,
      {
        credential_id: principal.credentialId,
        key_id: principal.keyId,
        limit_per_minute: limit,
        minute: new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString(),
        // The entry is the minute's first rejection; the day's total is in insights (daily.rate_limited).
        count: 1,
        first_target: request.target,
      },
    );
    this.counters.rateLimited(principal.tenant, principal.credentialId, entry, now);
  }

  private write(
    org: string,
    actor: Actor & { username?: string },
    channel: AuditChannel,
    request: ObservedRequest,
    payload: Record<string, unknown>,
  ): void {
    const entry = this.audit.entry(
      { org, actor, requestId: request.requestId, origin: originOf(channel, request) },
      'auth.denied',
      { type: 'request', id: request.target },
      'denied',
      new Date(),
      payload,
    );
    this.audit.recordLater(entry);
  }
}

function actorOf(principal: EngramPrincipal): Actor & { username?: string } {
  return { ...principal.actor, username: principal.username };
}

/** As src/http/request-context.ts names it: `admin` for the deployment's admin key on REST. */
function channelOf(principal: EngramPrincipal, request: ObservedRequest): AuditChannel {
  if (request.via === 'mcp') return 'mcp';
  return principal.keyId === null && principal.credential === 'admin_key' ? 'admin' : 'rest';
}

function originOf(channel: AuditChannel, request: ObservedRequest) {
  return {
    channel,
    ip: request.ip === '' ? undefined : request.ip,
    userAgent: request.userAgent?.slice(0, USER_AGENT_MAX),
  };
}
