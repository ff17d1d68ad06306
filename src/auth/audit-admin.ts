import type { AuditLog } from '../memory/audit/audit-log.js';
import type { AuditFilter, AuditPage, AuditQuery } from '../memory/audit/audit-query.js';
import type { AuditEntry } from '../memory/audit/audit-log.js';
import { auditContext, requireOrgAdmin, type AdminCall } from './admin-guard.js';

/**
 * The audit trail for organisation admins (GET /api/v1/admin/audit). Reading pages is not itself audited
 * (it would put the reader's own query at the top of every page); an export of the whole trail is.
 */
export class AuditAdmin {
  constructor(
    private readonly audit: AuditLog,
    private readonly query: AuditQuery,
  ) {}

  async page(
    call: AdminCall,
    filter: AuditFilter,
    cursor: string | undefined,
    limit: number,
  ): Promise<AuditPage> {
    await requireOrgAdmin(this.audit, call, 'audit.query', { type: 'org', id: call.caller.org });
    return this.query.page(call.caller.org, filter, cursor, limit);
  }

  /** The whole filtered range, newest first, in chunks; the export is audited before it starts. */
  async export(call: AdminCall, filter: AuditFilter): Promise<AsyncGenerator<AuditEntry[]>> {
    const target = { type: 'org', id: call.caller.org };
    await requireOrgAdmin(this.audit, call, 'audit.export', target);
    const payload = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined));
    await this.audit.record(
      this.audit.entry(auditContext(call), 'audit.export', target, 'success', new Date(), payload),
    );
    return this.query.all(call.caller.org, filter);
  }
}
