import { fail } from '../../errors.js';
import { auditContextOf, markAudited, type AuditLog, type RequestRef } from '../audit/audit-log.js';
import { engramNotFound, noPinAccess, requireWritable, type EngramCaller } from './access.js';
import type { EngramStore, Outcome } from './engram-store.js';
import type { EngramDoc, FeedbackSignal } from './model.js';

/**
 * The engram's lifecycle actions: retire, feedback, promote, pin. Each is one script on the stored engram.
 * An engram the caller cannot read answers exactly like a missing one (404): you cannot tell what you may
 * not see. One the caller reads but may not act on is 403 (see access.ts).
 *
 *   action    needs                       also
 *   feedback  read access                 (a usefulness signal, not an edit)
 *   retire    write access (editor)       soft: the document stays, status "retired"
 *   promote   write access (editor)       candidate -> active, else 409
 *   pin       admin role in the scope     audited, allowed or denied
 */
export class EngramActions {
  constructor(
    private readonly store: EngramStore,
    private readonly audit: AuditLog,
  ) {}

  /** The engram, if the caller may read it (404 otherwise). */
  async get(caller: EngramCaller, id: string): Promise<EngramDoc> {
    const doc = await this.store.get(caller.tenant, id);
    if (!doc || !caller.access.canRead(doc.scope)) throw engramNotFound(id);
    return doc;
  }

  async retire(caller: EngramCaller, id: string, request?: RequestRef): Promise<EngramDoc> {
    const doc = await this.get(caller, id);
    requireWritable(caller.access, id, doc.scope);
    const entry = this.entry(caller, request, 'engram.retire', id, { scope: doc.scope });
    return expect(await this.store.retire(caller.tenant, caller.actor, id, new Date(), entry), id);
  }

  async feedback(
    caller: EngramCaller,
    id: string,
    signal: FeedbackSignal,
    request?: RequestRef,
  ): Promise<EngramDoc> {
    const doc = await this.get(caller, id);
    const entry = this.entry(caller, request, 'engram.feedback', id, { scope: doc.scope, signal });
    return expect(await this.store.feedback(caller.tenant, caller.actor, id, signal, new Date(), entry), id);
  }

  async promote(caller: EngramCaller, id: string, request?: RequestRef): Promise<EngramDoc> {
    const doc = await this.get(caller, id);
    requireWritable(caller.access, id, doc.scope);
    const entry = this.entry(caller, request, 'engram.promote', id, { scope: doc.scope });
    const outcome = await this.store.promote(caller.tenant, caller.actor, id, new Date(), entry);
    if (!outcome.ok && outcome.reason === 'invalid_state') {
      const current = await this.store.get(caller.tenant, id);
      throw fail.conflict(`Engram ${id} is not a candidate (status: ${current?.status ?? 'unknown'})`);
    }
    return expect(outcome, id);
  }

  async pin(caller: EngramCaller, id: string, pinned: boolean, request: RequestRef): Promise<EngramDoc> {
    const doc = await this.get(caller, id);
    const context = auditContextOf(caller, request);
    const action = pinned ? 'engram.pin' : 'engram.unpin';
    const target = { type: 'engram', id };
    if (!caller.access.canPin(doc.scope)) {
      await this.audit.record(this.audit.entry(context, action, target, 'denied'));
      throw markAudited(noPinAccess(doc.scope));
    }
    const outcome = await this.store.pin(
      caller.tenant,
      caller.actor,
      id,
      pinned,
      new Date(),
      this.audit.entry(context, action, target, 'success', new Date(), { scope: doc.scope }),
    );
    if (!outcome.ok && outcome.reason === 'invalid_state')
      throw fail.conflict(`Engram ${id} is retired and cannot be pinned`);
    return expect(outcome, id);
  }

  private entry(
    caller: EngramCaller,
    request: RequestRef | undefined,
    action: string,
    id: string,
    payload: Record<string, unknown>,
  ) {
    const context = auditContextOf(caller, request);
    return this.audit.entry(context, action, { type: 'engram', id }, 'success', new Date(), payload);
  }
}

function expect(outcome: Outcome<EngramDoc>, id: string): EngramDoc {
  if (outcome.ok) return outcome.value;
  throw engramNotFound(id);
}
