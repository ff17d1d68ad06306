import { fail } from '../../errors.js';
import { auditContext, type AdminCall } from '../../auth/admin-guard.js';
import type { AuditLog } from '../audit/audit-log.js';
import { requireScope } from '../engrams/engram-input.js';
import type { EngramDoc, EngramType } from '../engrams/model.js';
import { isScopeWithin, parseScope } from '../engrams/scopes.js';
import { secretIn, type PackEngram } from './pack-engrams.js';
import { packFiles, PACK_MAX_ENGRAMS, type PackManifest } from './pack-format.js';
import type { PackStore } from './pack-store.js';
import { writeTarGz } from './tar-archive.js';

/**
 * Exporting a scope as a pack (plur.md §1.9): the live, active engrams of the scope and its sub-scopes
 * that the caller reads, without personal (user:) scopes, without anything the secret scan flags, and
 * with relations, ids and counters stripped. `match_terms` come from the tags and domains. The caller
 * needs read access to the scope (404 otherwise: what one cannot read does not exist for one).
 */
export interface ExportRequest {
  scope: string;
  name: string;
  version?: string | undefined;
  description?: string | undefined;
  domain?: string | undefined;
  tags?: string[] | undefined;
  type?: EngramType | undefined;
  creator: string;
}

export interface ExportedPack {
  filename: string;
  archive: Buffer;
  engramCount: number;
}

const MAX_MATCH_TERMS = 50;

export class PackExporter {
  constructor(
    private readonly store: PackStore,
    private readonly audit: AuditLog,
  ) {}

  async export(call: AdminCall, request: ExportRequest): Promise<ExportedPack> {
    const { caller } = call;
    const scope = requireScope(request.scope, caller.org);
    if (!caller.access.canRead(scope)) throw fail.notFound(`Scope ${scope} not found`);
    const docs = await this.store.liveEngrams(
      caller.tenant,
      (s) =>
        isScopeWithin(s, scope) && caller.access.canRead(s) && parseScope(s, caller.org)?.kind !== 'user',
    );
    const engrams = docs
      .filter((doc) => doc.status === 'active' && matches(doc, request))
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id))
      .map(packEngramOf)
      .filter((engram) => secretIn(engram) === undefined)
      .slice(0, PACK_MAX_ENGRAMS);
    if (engrams.length === 0)
      throw fail.unprocessable(`Scope ${scope} has no engrams to export with these filters`);
    const manifest: PackManifest = {
      name: request.name,
      version: request.version ?? '1.0.0',
      description: request.description ?? null,
      creator: request.creator,
      license: 'cc-by-sa-4.0',
      tags: request.tags ?? [],
      injection_policy: 'on_match',
      match_terms: matchTerms(engrams, request.tags ?? []),
      domain: request.domain ?? null,
      target_scope: null,
    };
    const now = new Date();
    const archive = writeTarGz(packFiles(manifest, engrams), now);
    const target = { type: 'pack', id: manifest.name };
    const details = { name: manifest.name, version: manifest.version, scope, engram_count: engrams.length };
    await this.store.recordExport(
      caller.tenant,
      caller.actor,
      now,
      details,
      this.audit.entry(auditContext(call), 'pack.export', target, 'success', now, details),
    );
    return { filename: `${manifest.name}-${manifest.version}.tar.gz`, archive, engramCount: engrams.length };
  }
}

function matches(doc: EngramDoc, request: ExportRequest): boolean {
  if (request.type !== undefined && doc.type !== request.type) return false;
  if (request.domain !== undefined) {
    const d = doc.domain ?? '';
    if (d !== request.domain && !d.startsWith(`${request.domain}.`) && !d.startsWith(`${request.domain}/`))
      return false;
  }
  if (
    request.tags !== undefined &&
    request.tags.length > 0 &&
    !request.tags.some((t) => doc.tags.includes(t))
  )
    return false;
  return true;
}

const packEngramOf = (doc: EngramDoc): PackEngram => ({
  statement: doc.statement,
  type: doc.type,
  domain: doc.domain,
  tags: doc.tags,
  rationale: doc.rationale,
  commitment: doc.commitment,
  source: null,
  valid_from: doc.valid_from,
  valid_until: doc.valid_until,
  pack_id: null,
});

function matchTerms(engrams: readonly PackEngram[], tags: readonly string[]): string[] {
  const terms = new Set<string>(tags);
  for (const e of engrams) {
    for (const t of e.tags) terms.add(t);
    if (e.domain !== null) for (const part of e.domain.split(/[./]/)) terms.add(part);
  }
  return [...terms].filter((t) => t.length <= 64).slice(0, MAX_MATCH_TERMS);
}
