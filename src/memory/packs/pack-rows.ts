import type { Tenant } from '../../tenant.js';
import { contentFingerprint } from './pack-conflicts.js';
import type { PackRecord, PackStore } from './pack-store.js';

/**
 * A pack as GET /api/v1/packs shows it. Its integrity status compares the content fingerprint each engram
 * had at install (kept in the pack's engram list) with the engram now: `modified` once one was edited or
 * retired, else `ok` when an integrity was declared and checked, `unverified` when none was.
 */
export type IntegrityStatus = 'ok' | 'modified' | 'unverified';

export interface PackRow {
  name: string;
  version: string;
  description: string | null;
  creator: string | null;
  scope: string;
  source: string;
  integrity: string;
  integrity_status: IntegrityStatus;
  engram_count: number;
  installed_at: string;
  installed_by: string;
}

/** The list row: `modified` when an engram the pack installed was changed or retired since. */
export async function packRow(store: PackStore, tenant: Tenant, record: PackRecord): Promise<PackRow> {
  const fingerprints = await store.fingerprints(tenant, record.name);
  const ids = Object.keys(fingerprints);
  const docs = await store.docs(tenant, ids);
  const changed = docs.some(
    (doc, i) =>
      !doc || doc.status === 'retired' || contentFingerprint(doc) !== fingerprints[ids[i] as string],
  );
  const status: IntegrityStatus = changed ? 'modified' : record.integrity_declared ? 'ok' : 'unverified';
  return {
    name: record.name,
    version: record.version,
    description: record.description,
    creator: record.creator,
    scope: record.scope,
    source: record.source,
    integrity: record.integrity,
    integrity_status: status,
    engram_count: record.engram_count,
    installed_at: record.installed_at,
    installed_by: record.installed_by,
  };
}
