import { fail } from '../../errors.js';
import { auditContextOf, markAudited, type AuditLog, type RequestRef } from '../audit/audit-log.js';
import type { BackgroundWork } from '../background.js';
import type { Embedder } from '../embedders/embedder.js';
import { engramNotFound, noPinAccess, noWriteAccess, requireWritable, type EngramCaller } from './access.js';
import { contentHash, dedupField, extOf, newEngramDoc, searchText } from './engram-doc.js';
import {
  checkValidity,
  defaultScope,
  extraFields,
  refuseSecrets,
  requireScope,
  type EngramBody,
} from './engram-input.js';
import type { EngramStore, ReplaceWrite } from './engram-store.js';
import { canTransition, type EngramDoc, type EngramStatus } from './model.js';

/**
 * Creating and changing engrams: permissions, validation, the derived fields (content hash, search text,
 * vector) and the events each change announces. Atomicity is the scripts' (see engram-store.ts); a PATCH is
 * a compare-and-set on the version it was computed from, retried when another write got there first.
 */
export interface WriterSettings {
  /** Largest JSON of the client's unknown fields. */
  extMaxBytes: number;
}

/**
 * A PATCH that lost the race to another write is recomputed from the new version. Each round lets at least
 * one writer through, so this covers bursts of concurrent changes to one engram; a short random pause
 * spreads the retries.
 */
const PATCH_ATTEMPTS = 16;
const pause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 4 * Math.min(attempt, 5)));

export class EngramWriter {
  constructor(
    private readonly store: EngramStore,
    private readonly embedder: Embedder,
    private readonly background: BackgroundWork,
    private readonly audit: AuditLog,
    private readonly settings: WriterSettings,
  ) {}

  /** Creates an engram, or returns the live one with the same statement in the scope (`created: false`). */
  async create(
    caller: EngramCaller,
    body: EngramBody & { statement: string },
    request: RequestRef,
  ): Promise<{ doc: EngramDoc; created: boolean }> {
    const { access, org } = caller;
    const scope = body.scope === undefined ? defaultScope(access) : requireScope(body.scope, org);
    if (!access.canWrite(scope)) throw noWriteAccess(scope);
    const pinned = body.pinned ?? false;
    if (pinned && !access.canPin(scope)) {
      await this.audit.record(
        this.audit.entry(
          auditContextOf(caller, request),
          'engram.pin',
          { type: 'scope', id: scope },
          'denied',
        ),
      );
      throw markAudited(noPinAccess(scope));
    }
    const extra = extraFields(body, this.settings.extMaxBytes);
    const fields = {
      statement: body.statement,
      domain: body.domain ?? null,
      tags: dedupe(body.tags ?? []),
      rationale: body.rationale ?? null,
      source: body.source ?? null,
      locked_reason: body.locked_reason ?? null,
    };
    checkValidity(body.valid_from ?? null, body.valid_until ?? null);
    refuseSecrets(scope, access, fields, extra);
    const now = new Date();
    const doc = newEngramDoc({
      ...fields,
      type: body.type ?? 'behavioral',
      scope,
      status: 'active',
      pinned,
      commitment: body.commitment ?? 'leaning',
      valid_from: body.valid_from ?? null,
      valid_until: body.valid_until ?? null,
      supersedes: dedupe(body.supersedes ?? []),
      session_id: body.session_id ?? null,
      ext: extra,
      createdBy: caller.userId ?? 'admin',
      now,
    });
    // The script writes the new id into the entry's target (a pinned create is audited as one too).
    const audit = this.audit.entry(
      auditContextOf(caller, request),
      'engram.create',
      { type: 'engram', id: '' },
      'success',
      now,
      { scope, pinned },
    );
    const outcome = await this.store.create({
      tenant: caller.tenant,
      actor: caller.actor,
      now,
      clientId: body.id,
      doc,
      dedupField: dedupField(scope, doc.content_hash),
      vector: await this.inlineVector(doc.statement),
      audit,
    });
    if (!outcome.ok) throw fail.conflict(`An engram with id ${body.id ?? ''} already exists`);
    const { doc: stored, created } = outcome.value;
    if (created && !this.embedder.inline)
      await this.background.embed(caller.tenant, [{ id: stored.id, text: stored.statement }]);
    return outcome.value;
  }

  /** Applies a PATCH; 404 when the caller cannot read the engram, 403 when it reads but may not change it. */
  async patch(caller: EngramCaller, id: string, body: EngramBody, request: RequestRef): Promise<EngramDoc> {
    for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
      const read = await this.store.getJson(caller.tenant, id);
      if (!read) throw engramNotFound(id);
      requireWritable(caller.access, id, read.doc.scope);
      const write = await this.nextVersion(caller, read.doc, body, request);
      const outcome = await this.store.replace({ ...write, readJson: read.json });
      if (outcome.ok) {
        if (write.vector.op === 'drop')
          await this.background.embed(caller.tenant, [{ id, text: write.doc.statement }]);
        return outcome.value;
      }
      if (outcome.reason === 'not_found') throw engramNotFound(id);
      if (outcome.reason === 'conflict')
        throw fail.conflict(`Another engram in ${write.doc.scope} already has this statement`);
      await pause(attempt + 1);
    }
    throw fail.conflict(`Engram ${id} kept changing while it was being updated; try again`);
  }

  private async nextVersion(
    caller: EngramCaller,
    current: EngramDoc,
    body: EngramBody,
    request: RequestRef,
  ): Promise<Omit<ReplaceWrite, 'readJson'>> {
    const { access, org } = caller;
    if (body.id !== undefined && body.id !== current.id) throw fail.validation('body.id cannot be changed');
    const set = <K extends keyof EngramDoc>(key: K): EngramDoc[K] =>
      key in body && body[key] !== undefined ? (body[key] as unknown as EngramDoc[K]) : current[key];
    const scope = body.scope === undefined ? current.scope : requireScope(body.scope, org);
    if (scope !== current.scope && !access.canWrite(scope)) throw noWriteAccess(scope);
    const status = (body.status ?? current.status) as EngramStatus;
    if (!canTransition(current.status, status))
      throw fail.conflict(`An engram cannot go from ${current.status} to ${status}`);
    const pinned = set('pinned');
    if (pinned !== current.pinned && !(access.canPin(current.scope) && access.canPin(scope))) {
      const action = pinned ? 'engram.pin' : 'engram.unpin';
      await this.audit.record(
        this.audit.entry(
          auditContextOf(caller, request),
          action,
          { type: 'engram', id: current.id },
          'denied',
        ),
      );
      throw markAudited(noPinAccess(access.canPin(current.scope) ? scope : current.scope));
    }

    const extra = { ...extOf(current) };
    for (const [key, value] of Object.entries(
      extraFields(body, this.settings.extMaxBytes, new Set(['status'])),
    )) {
      if (value === null) delete extra[key];
      else extra[key] = value;
    }
    const next: EngramDoc = {
      ...current,
      statement: set('statement'),
      type: set('type'),
      scope,
      status,
      domain: set('domain'),
      tags: dedupe(set('tags')),
      rationale: set('rationale'),
      pinned,
      commitment: set('commitment'),
      locked_reason: set('locked_reason'),
      valid_from: set('valid_from'),
      valid_until: set('valid_until'),
      supersedes: dedupe(set('supersedes')),
      source: set('source'),
      session_id: set('session_id'),
      ext: JSON.stringify(extra),
      engram_version: current.engram_version + 1,
      updated_at: new Date().toISOString(),
    };
    next.content = next.statement;
    next.search_text = searchText(next);
    next.content_hash = contentHash(next.statement);
    checkValidity(next.valid_from, next.valid_until);
    refuseSecrets(next.scope, access, next, extra);

    const events = ['engram.updated'];
    if (status !== current.status && status === 'retired') events.push('engram.retired');
    if (current.status === 'candidate' && status === 'active') events.push('engram.promoted');
    if (pinned !== current.pinned) events.push(pinned ? 'engram.pinned' : 'engram.unpinned');
    const statementChanged = next.statement !== current.statement;
    const vector = statementChanged ? await this.inlineVector(next.statement) : undefined;
    return {
      tenant: caller.tenant,
      actor: caller.actor,
      now: new Date(),
      doc: next,
      oldDedupField: dedupField(current.scope, current.content_hash),
      newDedupField: status === 'retired' ? undefined : dedupField(next.scope, next.content_hash),
      vector: !statementChanged ? { op: 'keep' } : vector ? { op: 'set', vector } : { op: 'drop' },
      events,
      audit: this.audit.entry(
        auditContextOf(caller, request),
        updateAction(current, next),
        { type: 'engram', id: current.id },
        'success',
        new Date(),
        { scope: next.scope, fields: changedFields(body) },
      ),
    };
  }

  private async inlineVector(text: string): Promise<Float32Array | undefined> {
    return this.embedder.inline ? (await this.embedder.embed([text]))[0] : undefined;
  }
}

const dedupe = (values: readonly string[]): string[] => [...new Set(values)];

/** One audit entry per change, named by what matters most: a pin change, a retirement, else an update. */
function updateAction(current: EngramDoc, next: EngramDoc): string {
  if (next.pinned !== current.pinned) return next.pinned ? 'engram.pin' : 'engram.unpin';
  if (next.status === 'retired' && current.status !== 'retired') return 'engram.retire';
  if (next.status === 'active' && current.status === 'candidate') return 'engram.promote';
  return 'engram.update';
}

/** The names of the fields a PATCH set (never their values: the audit trail holds no memory content). */
const changedFields = (body: EngramBody): string[] =>
  Object.keys(body)
    .filter((key) => (body as Record<string, unknown>)[key] !== undefined)
    .sort();
