import type { PrincipalByAuth } from '../auth/principal.js';
import type { Logger } from '../log.js';

/** MNEMO_LOG_REQUESTS. */
export type RequestLogMode = 'all' | 'errors' | 'off';

/** What the request log says about one answered request. */
export interface RequestRecord {
  requestId: string;
  route: string;
  method: string;
  status: number;
  latencyMs: number;
  principal: unknown;
  bytesIn: number;
  bytesOut: number;
}

type AnyPrincipal = Exclude<PrincipalByAuth[keyof PrincipalByAuth], undefined>;

/** Who made a request, as the log may name them: ids and kinds only, never a key, hash or token. */
function who(principal: unknown): Record<string, string | null> {
  if (principal === undefined || principal === null)
    return { principal_kind: 'anonymous', principal_id: null };
  const p = principal as AnyPrincipal;
  switch (p.kind) {
    case 'admin':
      return { principal_kind: 'admin', principal_id: null };
    case 'layer-key':
      return { principal_kind: 'layer-key', principal_id: p.keyId, workspace: p.workspaceId };
    case 'engram':
      return p.keyId === null
        ? { principal_kind: 'admin', principal_id: null, org: p.org }
        : { principal_kind: 'engram-key', principal_id: p.keyId, user_id: p.userId, org: p.org };
    case 'metrics':
      return { principal_kind: p.via, principal_id: null };
    case 'scim':
      return { principal_kind: 'scim-token', principal_id: p.tokenId, org: p.org };
  }
}

/**
 * One JSON line per request through the service's pino logger (MNEMO_LOG_REQUESTS): `all`, `errors`
 * (4xx/5xx and requests slower than MNEMO_SLOW_REQUEST_MS) or `off`. A line names the route template,
 * never the raw path (which may carry ids the template abstracts) nor any header, body or credential.
 * 5xx lines are logged at error level, slow ones at warn, the rest at info.
 */
export class RequestLog {
  constructor(
    private readonly log: Logger,
    readonly mode: RequestLogMode,
    private readonly slowMs: number,
  ) {}

  /** Whether a request with this status and latency is logged: decided before anything is built. */
  wants(status: number, latencyMs: number): boolean {
    if (this.mode === 'off') return false;
    return this.mode === 'all' || status >= 400 || latencyMs > this.slowMs;
  }

  write(record: RequestRecord): void {
    const line = {
      request_id: record.requestId,
      route: record.route,
      method: record.method,
      status: record.status,
      latency_ms: Math.round(record.latencyMs * 1000) / 1000,
      ...who(record.principal),
      bytes_in: record.bytesIn,
      bytes_out: record.bytesOut,
    };
    if (record.status >= 500) this.log.error(line, 'request');
    else if (record.latencyMs > this.slowMs) this.log.warn(line, 'request (slow)');
    else this.log.info(line, 'request');
  }
}
