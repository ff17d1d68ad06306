import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import { ScriptError } from '../../redis/script-errors.js';
import type { ScriptArg, Scripts } from '../../redis/scripts.js';
import type { Tenant } from '../../tenant.js';
import type { AuditEntry } from '../audit/audit-log.js';
import type { EventLog } from '../event-log.js';
import type { Actor } from '../events.js';
import { parseEngramDoc } from '../engrams/engram-doc.js';
import { dayOf, type EngramDoc } from '../engrams/model.js';
import { vectorToBuffer } from '../search/vector-store.js';

/**
 * Typed wrappers around the pack scripts (installPack, uninstallPack, recordPackExport) and the reads of
 * pack records. Policy lives in pack-service.ts.
 */
export interface PackRecord {
  name: string;
  version: string;
  description: string | null;
  creator: string | null;
  license: string | null;
  tags: string[];
  injection_policy: string;
  match_terms: string[];
  domain: string | null;
  scope: string;
  /** 'upload' or the URL it was fetched from. */
  source: string;
  integrity: string;
  /** False when neither the archive nor the request declared an integrity (integrity_status unverified). */
  integrity_declared: boolean;
  installed_at: string;
  installed_by: string;
  /** Filled by the install script. */
  engram_count: number;
  duplicates: number;
}

export interface InstallEngram {
  doc: Omit<EngramDoc, 'id'>;
  dedupField: string;
  vector: Float32Array | undefined;
  fingerprint: string;
}

export interface InstallWrite {
  tenant: Tenant;
  actor: Actor;
  now: Date;
  record: Omit<PackRecord, 'engram_count' | 'duplicates'>;
  upgrade: boolean;
  engrams: readonly InstallEngram[];
  audit: AuditEntry;
}

export interface InstallOutcome {
  outcome: 'installed' | 'upgraded' | 'unchanged';
  record: PackRecord;
  installed: number;
  duplicates: number;
  retired: number;
  ids: string[];
}

/** HMGET in slices, so a large pack never sends one enormous command. */
const READ_SLICE = 1000;

export class PackStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keys: Keys,
    private readonly events: EventLog,
    private readonly auditMaxLen: number,
  ) {}

  /** Runs the install script; 'conflict' when another version is installed and this is no upgrade. */
  async install(write: InstallWrite): Promise<InstallOutcome | 'conflict'> {
    const { tenant, record } = write;
    const args: ScriptArg[] = [
      ...this.events.contextArgs(tenant, write.actor, write.now),
      record.name,
      write.upgrade ? 'upgrade' : 'install',
      record.integrity,
      JSON.stringify(record),
      dayOf(write.now),
      JSON.stringify(write.audit),
      this.auditMaxLen,
      write.engrams.length,
    ];
    for (const engram of write.engrams)
      args.push(
        JSON.stringify(engram.doc),
        engram.dedupField,
        engram.vector ? vectorToBuffer(engram.vector) : '',
        engram.fingerprint,
      );
    let reply: [InstallOutcome['outcome'], string, number, number, number, ...string[]];
    try {
      reply = await this.scripts.run(
        'installPack',
        [
          this.keys.docs(tenant),
          this.keys.vectors(tenant),
          this.keys.engramHashes(tenant),
          this.keys.engramIdCounter(tenant, dayOf(write.now)),
          this.keys.packs(tenant),
          this.keys.packEngrams(tenant, record.name),
          this.keys.eventStream(tenant),
          this.keys.audit(tenant),
        ],
        args,
      );
    } catch (err) {
      if (err instanceof ScriptError && err.kind === 'conflict') return 'conflict';
      throw err;
    }
    const [outcome, json, installed, duplicates, retired, ...ids] = reply;
    return { outcome, record: JSON.parse(json) as PackRecord, installed, duplicates, retired, ids };
  }

  /** Retires the pack's live engrams and removes its record; undefined when it is not installed. */
  async uninstall(
    tenant: Tenant,
    actor: Actor,
    name: string,
    now: Date,
    audit: AuditEntry,
  ): Promise<{ record: PackRecord; removed: number } | undefined> {
    try {
      const [json, removed] = await this.scripts.run<[string, number]>(
        'uninstallPack',
        [
          this.keys.docs(tenant),
          this.keys.engramHashes(tenant),
          this.keys.packs(tenant),
          this.keys.packEngrams(tenant, name),
          this.keys.eventStream(tenant),
          this.keys.audit(tenant),
        ],
        [...this.events.contextArgs(tenant, actor, now), name, JSON.stringify(audit), this.auditMaxLen],
      );
      return { record: JSON.parse(json) as PackRecord, removed };
    } catch (err) {
      if (err instanceof ScriptError && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  async recordExport(
    tenant: Tenant,
    actor: Actor,
    now: Date,
    data: Record<string, unknown>,
    audit: AuditEntry,
  ): Promise<void> {
    await this.scripts.run(
      'recordPackExport',
      [this.keys.eventStream(tenant), this.keys.audit(tenant)],
      [
        ...this.events.contextArgs(tenant, actor, now),
        JSON.stringify(data),
        JSON.stringify(audit),
        this.auditMaxLen,
      ],
    );
  }

  async get(tenant: Tenant, name: string): Promise<PackRecord | undefined> {
    const json = await this.redis.hget(this.keys.packs(tenant), name);
    return json === null ? undefined : (JSON.parse(json) as PackRecord);
  }

  async list(tenant: Tenant): Promise<PackRecord[]> {
    const all = await this.redis.hgetall(this.keys.packs(tenant));
    return Object.values(all).map((json) => JSON.parse(json) as PackRecord);
  }

  /** The engrams the pack installed, with the fingerprint each had then. */
  async fingerprints(tenant: Tenant, name: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.packEngrams(tenant, name));
  }

  async docs(tenant: Tenant, ids: readonly string[]): Promise<(EngramDoc | undefined)[]> {
    const out: (EngramDoc | undefined)[] = [];
    for (let at = 0; at < ids.length; at += READ_SLICE) {
      const rows = await this.redis.hmget(this.keys.docs(tenant), ...ids.slice(at, at + READ_SLICE));
      for (const json of rows) out.push(json === null ? undefined : parseEngramDoc(json));
    }
    return out;
  }

  /**
   * The live (not retired) engrams whose scope passes `scopeFilter`, found through the duplicate index,
   * which holds exactly one entry per live engram ("<scope>\n<hash>" -> id).
   */
  async liveEngrams(tenant: Tenant, scopeFilter: (scope: string) => boolean): Promise<EngramDoc[]> {
    const index = await this.redis.hgetall(this.keys.engramHashes(tenant));
    const ids: string[] = [];
    for (const [field, id] of Object.entries(index)) {
      const scope = field.slice(0, field.lastIndexOf('\n'));
      if (scopeFilter(scope)) ids.push(id);
    }
    const docs = await this.docs(tenant, ids);
    return docs.filter((d): d is EngramDoc => d !== undefined && d.status !== 'retired');
  }
}
