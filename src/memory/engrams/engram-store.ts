import { createHash } from 'node:crypto';
import type { RedisClient } from '../../redis/clients.js';
import type { Keys } from '../../redis/keys.js';
import type { Tenant } from '../../tenant.js';
import { ScriptError } from '../../redis/script-errors.js';
import type { ScriptArg, Scripts } from '../../redis/scripts.js';
import type { AuditEntry } from '../audit/audit-log.js';
import type { EventLog } from '../event-log.js';
import type { Actor } from '../events.js';
import { INSIGHT_TTL_SECONDS } from '../insights/activity-counters.js';
import { vectorToBuffer } from '../search/vector-store.js';
import { parseEngramDoc } from './engram-doc.js';
import { dayOf, type EngramDoc, type FeedbackSignal } from './model.js';

/**
 * Typed wrappers around the engram Lua scripts (one atomic script per write, each appending its events)
 * and the reads of engram documents. Policy (who may do what, what a valid engram is) lives in the
 * services; script failures come back as plain outcomes for them to map.
 */
export type Outcome<T> =
  { ok: true; value: T } | { ok: false; reason: 'not_found' | 'conflict' | 'invalid_state' | 'mismatch' };

export interface CreateWrite {
  tenant: Tenant;
  actor: Actor;
  now: Date;
  /** Client-chosen id, or undefined to assign the next ENG-<day>-NNN. */
  clientId: string | undefined;
  doc: Omit<EngramDoc, 'id'>;
  dedupField: string;
  vector: Float32Array | undefined;
  /** Written with the engram when it is created (a pinned create is a pin). */
  audit: AuditEntry | undefined;
}

export interface ReplaceWrite {
  tenant: Tenant;
  actor: Actor;
  now: Date;
  /** The stored JSON the new version was computed from. */
  readJson: string;
  doc: EngramDoc;
  oldDedupField: string;
  /** undefined when the new version is retired (it leaves the duplicate index). */
  newDedupField: string | undefined;
  vector: { op: 'keep' } | { op: 'drop' } | { op: 'set'; vector: Float32Array };
  events: string[];
  audit: AuditEntry | undefined;
}

export class EngramStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keys: Keys,
    private readonly events: EventLog,
    private readonly auditMaxLen: number,
  ) {}

  async create(write: CreateWrite): Promise<Outcome<{ doc: EngramDoc; created: boolean }>> {
    const { tenant } = write;
    const reply = await this.attempt(() =>
      this.scripts.run<[string, 'created' | 'duplicate', string]>(
        'createEngram',
        [
          this.keys.docs(tenant),
          this.keys.vectors(tenant),
          this.keys.engramHashes(tenant),
          this.keys.engramIdCounter(tenant, dayOf(write.now)),
          this.keys.eventStream(tenant),
          this.keys.audit(tenant),
          this.keys.insightDay(tenant, dayOf(write.now)),
        ],
        [
          ...this.events.contextArgs(tenant, write.actor, write.now),
          write.clientId ?? '',
          JSON.stringify(write.doc),
          write.dedupField,
          write.vector ? vectorToBuffer(write.vector) : '',
          dayOf(write.now),
          write.audit ? JSON.stringify(write.audit) : '',
          this.auditMaxLen,
          INSIGHT_TTL_SECONDS,
        ],
      ),
    );
    if (!reply.ok) return reply;
    const [, outcome, json] = reply.value;
    return { ok: true, value: { doc: this.parse(json), created: outcome === 'created' } };
  }

  async replace(write: ReplaceWrite): Promise<Outcome<EngramDoc>> {
    const { tenant } = write;
    const vector: ScriptArg = write.vector.op === 'set' ? vectorToBuffer(write.vector.vector) : '';
    const reply = await this.attempt(() =>
      this.scripts.run<string>(
        'replaceEngram',
        [
          this.keys.docs(tenant),
          this.keys.vectors(tenant),
          this.keys.engramHashes(tenant),
          this.keys.eventStream(tenant),
          this.keys.audit(tenant),
        ],
        [
          ...this.events.contextArgs(tenant, write.actor, write.now),
          write.doc.id,
          createHash('sha1').update(write.readJson).digest('hex'),
          JSON.stringify(write.doc),
          write.oldDedupField,
          write.newDedupField ?? '',
          write.vector.op,
          vector,
          write.events.join(','),
          write.audit ? JSON.stringify(write.audit) : '',
          this.auditMaxLen,
        ],
      ),
    );
    return reply.ok ? { ok: true, value: this.parse(reply.value) } : reply;
  }

  retire(tenant: Tenant, actor: Actor, id: string, now: Date, audit?: AuditEntry) {
    return this.change(
      'retireEngram',
      tenant,
      actor,
      now,
      [this.keys.engramHashes(tenant)],
      [id, ...this.auditArgs(audit)],
      [this.keys.audit(tenant)],
    );
  }

  promote(tenant: Tenant, actor: Actor, id: string, now: Date, audit?: AuditEntry) {
    return this.change(
      'promoteEngram',
      tenant,
      actor,
      now,
      [],
      [id, dayOf(now), ...this.auditArgs(audit)],
      [this.keys.audit(tenant)],
    );
  }

  feedback(tenant: Tenant, actor: Actor, id: string, signal: FeedbackSignal, now: Date, audit?: AuditEntry) {
    return this.change(
      'feedbackEngram',
      tenant,
      actor,
      now,
      [],
      [id, signal, dayOf(now), ...this.auditArgs(audit)],
      [this.keys.audit(tenant)],
    );
  }

  pin(tenant: Tenant, actor: Actor, id: string, pinned: boolean, now: Date, audit: AuditEntry) {
    return this.change(
      'pinEngram',
      tenant,
      actor,
      now,
      [],
      [id, pinned ? '1' : '0', ...this.auditArgs(audit)],
      [this.keys.audit(tenant)],
    );
  }

  /** The audit tail of a script's ARGV: the entry ('' = none) and the stream's MAXLEN. */
  private auditArgs(audit: AuditEntry | undefined): ScriptArg[] {
    return [audit ? JSON.stringify(audit) : '', this.auditMaxLen];
  }

  /** Counts reads (recall: frequency and last accessed; inject: injection_count); returns fresh documents. */
  async touch(
    tenant: Tenant,
    actor: Actor,
    mode: 'recall' | 'inject',
    ids: readonly string[],
    now: Date,
  ): Promise<(EngramDoc | undefined)[]> {
    if (ids.length === 0) return [];
    const replies = await this.scripts.run<(string | null)[]>(
      'touchEngrams',
      [this.keys.docs(tenant), this.keys.eventStream(tenant)],
      [...this.events.contextArgs(tenant, actor, now), mode, dayOf(now), ...ids],
    );
    return replies.map((json) => (json === null ? undefined : parseEngramDoc(json)));
  }

  /** The stored JSON of an engram (what a compare-and-set replace is computed from). */
  async getJson(tenant: Tenant, id: string): Promise<{ json: string; doc: EngramDoc } | undefined> {
    const json = await this.redis.hget(this.keys.docs(tenant), id);
    if (json === null) return undefined;
    const doc = parseEngramDoc(json);
    return doc ? { json, doc } : undefined;
  }

  async get(tenant: Tenant, id: string): Promise<EngramDoc | undefined> {
    return (await this.getJson(tenant, id))?.doc;
  }

  async getMany(tenant: Tenant, ids: readonly string[]): Promise<(EngramDoc | undefined)[]> {
    if (ids.length === 0) return [];
    const rows = await this.redis.hmget(this.keys.docs(tenant), ...ids);
    return rows.map((json) => (json === null ? undefined : parseEngramDoc(json)));
  }

  /** Runs retire/promote/feedback/pin: KEYS docs, [extra before the stream], stream, [extra after]. */
  private async change(
    script: string,
    tenant: Tenant,
    actor: Actor,
    now: Date,
    keysBeforeStream: string[],
    args: ScriptArg[],
    keysAfterStream: string[] = [],
  ): Promise<Outcome<EngramDoc>> {
    const reply = await this.attempt(() =>
      this.scripts.run<string>(
        script,
        [this.keys.docs(tenant), ...keysBeforeStream, this.keys.eventStream(tenant), ...keysAfterStream],
        [...this.events.contextArgs(tenant, actor, now), ...args],
      ),
    );
    return reply.ok ? { ok: true, value: this.parse(reply.value) } : reply;
  }

  private async attempt<T>(run: () => Promise<T>): Promise<Outcome<T>> {
    try {
      return { ok: true, value: await run() };
    } catch (err) {
      // invalid_input is a bug of ours (an argument built wrong), not an outcome: it stays an error.
      if (err instanceof ScriptError && err.kind !== 'limit_exceeded' && err.kind !== 'invalid_input') {
        return { ok: false, reason: err.kind };
      }
      throw err;
    }
  }

  private parse(json: string): EngramDoc {
    const doc = parseEngramDoc(json);
    if (!doc) throw new Error('an engram script returned something that is not an engram');
    return doc;
  }
}
