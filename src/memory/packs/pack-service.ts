import { MnemoError, fail } from '../../errors.js';
import { auditContext, requireOrgAdmin, type AdminCall } from '../../auth/admin-guard.js';
import type { Tenant } from '../../tenant.js';
import type { AuditLog, RequestOrigin } from '../audit/audit-log.js';
import type { BackgroundWork } from '../background.js';
import type { Embedder } from '../embedders/embedder.js';
import type { Actor } from '../events.js';
import { dedupField, newEngramDoc } from '../engrams/engram-doc.js';
import { requireScope } from '../engrams/engram-input.js';
import { orgScope } from '../engrams/scopes.js';
import { contentFingerprint, findConflicts, type PackConflict } from './pack-conflicts.js';
import { engramLabel, secretIn, type PackEngram } from './pack-engrams.js';
import { checkIntegrityText, parsePack, PACK_MAX_ENGRAMS, type PackManifest } from './pack-format.js';
import { packRow, type PackRow } from './pack-rows.js';
import type { InstallEngram, PackRecord, PackStore } from './pack-store.js';
import { readTarGz } from './tar-archive.js';

/**
 * Installing and uninstalling packs (org admins), and listing them. An install is checked completely
 * before anything is written (archive, layout, YAML, integrity, scope, secrets, the installed version),
 * then written by one script (pack-store.ts), so nothing is ever half-installed. Packs over
 * `inlineMaxEngrams` are prepared the same way and handed to a background job (202 with its id).
 */
export interface PackSettings {
  maxBytes: number;
  inlineMaxEngrams: number;
}

/** Where a prepared install goes when it is too large to run inline (a BullMQ queue, src/jobs). */
export interface PackInstallQueue {
  enqueue(install: PreparedInstall): Promise<string>;
}

export interface InstallRequest {
  archive: Buffer;
  /** 'upload' or the URL it came from. */
  source: string;
  scope?: string | undefined;
  integrity?: string | undefined;
  upgrade: boolean;
  /** Who the record names as installer (the username when the credential has one). */
  installedBy: string;
}

/** Everything an install needs, checked and serializable (it travels in a job). */
export interface PreparedInstall {
  org: string;
  tenant: Tenant;
  actor: Actor;
  requestId: string;
  origin?: RequestOrigin | undefined;
  createdBy: string;
  manifest: PackManifest;
  engrams: PackEngram[];
  record: Omit<PackRecord, 'engram_count' | 'duplicates'>;
  upgrade: boolean;
}

export interface InstallResult {
  status: 200 | 201;
  pack: PackRow;
  installed: number;
  duplicates: number;
  conflicts: PackConflict[];
  upgraded: boolean;
}

export type InstallAnswer = InstallResult | { status: 202; jobId: string; total: number };

/** Entries of a pack archive: the layouts' few files, or one file per engram in the manifest layout. */
const MAX_ARCHIVE_ENTRIES = PACK_MAX_ENGRAMS + 64;
/** How far an archive may unpack beyond its compressed size limit (YAML compresses about tenfold). */
const UNPACK_FACTOR = 16;
/** Embedding is batched so progress can be reported and one call never holds thousands of texts. */
const EMBED_BATCH = 256;

export class PackService {
  constructor(
    private readonly store: PackStore,
    private readonly embedder: Embedder,
    private readonly background: BackgroundWork,
    private readonly audit: AuditLog,
    private readonly queue: PackInstallQueue,
    private readonly settings: PackSettings,
  ) {}

  /** Org admins only (403, audited as denied, before the archive is even read). */
  async authorizeInstall(call: AdminCall): Promise<void> {
    await requireOrgAdmin(this.audit, call, 'pack.install', { type: 'pack', id: '' });
  }

  async install(call: AdminCall, request: InstallRequest): Promise<InstallAnswer> {
    await this.authorizeInstall(call);
    const prepared = await this.prepare(call, request);
    if ('status' in prepared) return prepared;
    if (prepared.engrams.length > this.settings.inlineMaxEngrams) {
      const jobId = await this.queue.enqueue(prepared);
      return { status: 202, jobId, total: prepared.engrams.length };
    }
    return this.execute(prepared);
  }

  /** Checks an install completely; an already-installed identical pack answers at once (200). */
  private async prepare(call: AdminCall, request: InstallRequest): Promise<PreparedInstall | InstallResult> {
    const { caller } = call;
    if (request.archive.length > this.settings.maxBytes)
      throw new MnemoError(
        'payload_too_large',
        `The archive exceeds the limit of ${this.settings.maxBytes} bytes`,
      );
    const files = readTarGz(request.archive, {
      maxUnpackedBytes: this.settings.maxBytes * UNPACK_FACTOR,
      maxEntries: MAX_ARCHIVE_ENTRIES,
    });
    const pack = parsePack(files);
    const requested =
      request.integrity === undefined ? null : checkIntegrityText(request.integrity, 'integrity');
    for (const [declared, where] of [
      [pack.declaredIntegrity, pack.layout === 'skill' ? 'the INTEGRITY file' : 'the manifest'],
      [requested, 'the request'],
    ] as const)
      if (declared !== null && declared !== pack.integrity)
        throw fail.conflict(
          `Integrity mismatch: ${where} declares ${declared} but the pack's content hashes to ${pack.integrity}; nothing was installed`,
        );
    const scope = requireScope(
      request.scope ?? pack.manifest.target_scope ?? orgScope(caller.org),
      caller.org,
      request.scope === undefined && pack.manifest.target_scope !== null ? 'manifest target_scope' : 'scope',
    );
    if (!caller.access.canWrite(scope)) throw fail.forbidden(`No write access to scope ${scope}`);
    pack.engrams.forEach((engram, i) => {
      const kind = secretIn(engram);
      if (kind !== undefined)
        throw fail.unprocessable(
          `Engram ${engramLabel(engram, i)} of pack ${pack.manifest.name} looks like it contains a secret (${kind}); nothing was installed`,
        );
    });
    const { manifest } = pack;
    const installed = await this.store.get(caller.tenant, manifest.name);
    if (installed && installed.integrity === pack.integrity)
      return {
        status: 200,
        pack: await packRow(this.store, caller.tenant, installed),
        installed: 0,
        duplicates: 0,
        conflicts: [],
        upgraded: false,
      };
    if (installed && !request.upgrade) throw alreadyInstalled(installed);
    return {
      org: caller.org,
      tenant: caller.tenant,
      actor: caller.actor,
      requestId: call.requestId,
      origin: call.origin,
      createdBy: caller.userId ?? 'admin',
      manifest,
      engrams: pack.engrams,
      upgrade: request.upgrade,
      record: {
        name: manifest.name,
        version: manifest.version,
        description: manifest.description,
        creator: manifest.creator,
        license: manifest.license,
        tags: manifest.tags,
        injection_policy: manifest.injection_policy,
        match_terms: manifest.match_terms,
        domain: manifest.domain,
        scope,
        source: request.source,
        integrity: pack.integrity,
        integrity_declared: pack.declaredIntegrity !== null || requested !== null,
        installed_at: new Date().toISOString(),
        installed_by: request.installedBy,
      },
    };
  }

  /** Writes a prepared install (inline, or in the pack job); `onProgress` hears embedded/total. */
  async execute(
    prepared: PreparedInstall,
    onProgress: (done: number, total: number) => Promise<void> = async () => undefined,
  ): Promise<InstallResult> {
    const { tenant, record, manifest } = prepared;
    const now = new Date();
    const total = prepared.engrams.length;
    const existing = await this.store.liveEngrams(tenant, (s) => s === record.scope);
    const ownIds = prepared.upgrade
      ? new Set(Object.keys(await this.store.fingerprints(tenant, record.name)))
      : new Set<string>();
    const conflicts = findConflicts(
      prepared.engrams,
      existing.filter((doc) => !ownIds.has(doc.id)),
    );
    const engrams: InstallEngram[] = [];
    for (let at = 0; at < total; at += EMBED_BATCH) {
      const batch = prepared.engrams.slice(at, at + EMBED_BATCH);
      const vectors = this.embedder.inline ? await this.embedder.embed(batch.map((e) => e.statement)) : [];
      batch.forEach((engram, i) => {
        const doc = newEngramDoc({
          statement: engram.statement,
          type: engram.type,
          scope: record.scope,
          status: 'active',
          domain: engram.domain,
          tags: engram.tags,
          rationale: engram.rationale,
          pinned: false,
          commitment: engram.commitment,
          locked_reason: null,
          valid_from: engram.valid_from,
          valid_until: engram.valid_until,
          supersedes: [],
          source: engram.source,
          session_id: null,
          ext: {
            pack: {
              name: manifest.name,
              version: manifest.version,
              ...(engram.pack_id === null ? {} : { engram_id: engram.pack_id }),
            },
          },
          createdBy: prepared.createdBy,
          now,
        });
        engrams.push({
          doc,
          dedupField: dedupField(record.scope, doc.content_hash),
          vector: vectors[i],
          fingerprint: contentFingerprint(doc),
        });
      });
      await onProgress(Math.min(at + EMBED_BATCH, total), total);
    }
    const context = {
      org: prepared.org,
      actor: prepared.actor,
      requestId: prepared.requestId,
      origin: prepared.origin,
    };
    const audit = this.audit.entry(
      context,
      'pack.install',
      { type: 'pack', id: record.name },
      'success',
      now,
      {
        version: record.version,
        scope: record.scope,
        integrity: record.integrity,
        source: record.source,
        upgrade: prepared.upgrade,
      },
    );
    const outcome = await this.store.install({
      tenant,
      actor: prepared.actor,
      now,
      record,
      upgrade: prepared.upgrade,
      engrams,
      audit,
    });
    if (outcome === 'conflict') {
      const current = await this.store.get(tenant, record.name);
      throw current
        ? alreadyInstalled(current)
        : fail.conflict(`Pack ${record.name} changed during the install; retry`);
    }
    if (!this.embedder.inline && outcome.ids.length > 0) {
      const docs = await this.store.docs(tenant, outcome.ids);
      await this.background.embed(
        tenant,
        docs.flatMap((d) => (d ? [{ id: d.id, text: d.statement }] : [])),
      );
    }
    const unchanged = outcome.outcome === 'unchanged';
    return {
      status: unchanged ? 200 : 201,
      pack: await packRow(this.store, tenant, outcome.record),
      installed: outcome.installed,
      duplicates: outcome.duplicates,
      conflicts: unchanged ? [] : conflicts,
      upgraded: outcome.outcome === 'upgraded',
    };
  }

  /** The packs of the organisation; members see those installed in scopes they read, admins all. */
  async list(call: AdminCall): Promise<PackRow[]> {
    const { caller } = call;
    const records = (await this.store.list(caller.tenant))
      .filter((r) => caller.isOrgAdmin || caller.access.canRead(r.scope))
      .sort((a, b) => a.name.localeCompare(b.name));
    const rows: PackRow[] = [];
    for (const record of records) rows.push(await packRow(this.store, caller.tenant, record));
    return rows;
  }

  async uninstall(call: AdminCall, name: string): Promise<{ name: string; removed: number }> {
    const target = { type: 'pack', id: name };
    await requireOrgAdmin(this.audit, call, 'pack.uninstall', target);
    const now = new Date();
    const audit = this.audit.entry(auditContext(call), 'pack.uninstall', target, 'success', now, {});
    const done = await this.store.uninstall(call.caller.tenant, call.caller.actor, name, now, audit);
    if (!done) throw fail.notFound(`Pack ${name} is not installed`);
    return { name, removed: done.removed };
  }
}

const alreadyInstalled = (record: PackRecord) =>
  fail.conflict(
    `Pack ${record.name} ${record.version} is already installed with integrity ${record.integrity}; install with ?upgrade=true to replace it`,
  );
