import { fail } from '../errors.js';
import {
  auditContextOf,
  type AuditContext,
  markAudited,
  type AuditLog,
  type RequestOrigin,
} from '../memory/audit/audit-log.js';
import type { EngramCaller } from '../memory/engrams/access.js';

/** An administrative call: who makes it and the request it belongs to (for the audit trail). */
export interface AdminCall {
  caller: EngramCaller;
  requestId: string;
  /** The transport's details for the audit entry (channel, client address, user agent). */
  origin?: RequestOrigin | undefined;
}

export const auditContext = (call: AdminCall): AuditContext => auditContextOf(call.caller, call);

/**
 * Admin endpoints need the organisation's admin role (a user with role admin, or the admin key). A refusal
 * is audited (outcome "denied") and answered 403.
 */
export async function requireOrgAdmin(
  audit: AuditLog,
  call: AdminCall,
  action: string,
  target: { type: string; id: string },
): Promise<void> {
  if (call.caller.isOrgAdmin) return;
  await audit.record(audit.entry(auditContext(call), action, target, 'denied'));
  throw markAudited(fail.forbidden('This endpoint needs the admin role in the organisation'));
}
