import { MnemoError } from '../errors.js';
import type { RedisClient } from '../redis/clients.js';
import type { CredentialKeyspace } from '../redis/keys.js';
import { ScriptError } from '../redis/script-errors.js';
import type { Scripts } from '../redis/scripts.js';

/** What a revocation did: 'unknown' when there is no such credential, or the caller may not see it. */
export type RevokeOutcome = { outcome: 'revoked' | 'already'; hash: string } | { outcome: 'unknown' };

export interface RevokeRequest<R> {
  id: string;
  /** The record field that names its owner, and the owner the caller must be; absent: any owner. */
  owner?: { field: string; value: string };
  /** A further check on the record before it is revoked (false answers 'unknown'). */
  allowed?: (record: R) => boolean;
  /** The invalidation message every instance's credential cache drops the credential on. */
  tag: (hash: string) => string;
}

/** Last-used stamps are written at most this often per credential and instance. */
const TOUCH_INTERVAL_MS = 60_000;
const TOUCHED_MEMORY = 100_000;

/**
 * The storage of one credential kind: the same three scripts (storeCredential, revokeCredential,
 * touchCredential) for layer keys, engram-API keys and SCIM tokens. Services keep what differs: the secret's
 * format, the record's fields, the principal, audit and events.
 */
export class CredentialRecords<R> {
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    private readonly keyspace: CredentialKeyspace,
    private readonly parse: (row: Record<string, string> | null | undefined) => R | undefined,
    private readonly invalidationChannel: string,
    private readonly onTouchError: (err: unknown) => void,
  ) {}

  /** Stores a new, active credential; `fields` are the record's own (strings, '' for none). */
  async store(
    hash: string,
    id: string,
    owner: string,
    createdAt: Date,
    fields: Record<string, string>,
  ): Promise<void> {
    const pairs = Object.entries(fields).flat();
    await this.scripts.run(
      'storeCredential',
      [this.keyspace.byHash(hash), this.keyspace.byId(id), this.keyspace.ofOwner(owner)],
      [hash, id, createdAt.getTime(), ...pairs],
    );
  }

  /** The record of a presented secret's hash (one lookup), or undefined. */
  async byHash(hash: string): Promise<R | undefined> {
    return this.parse(await this.redis.hgetall(this.keyspace.byHash(hash)));
  }

  /** Every record in an owner's list, newest first (the caller checks the owner field it trusts). */
  async ofOwner(owner: string): Promise<R[]> {
    const ids = await this.redis.zrevrange(this.keyspace.ofOwner(owner), 0, -1);
    if (ids.length === 0) return [];
    const hashes = await this.redis.mget(ids.map((id) => this.keyspace.byId(id)));
    const pipeline = this.redis.pipeline();
    for (const hash of hashes) pipeline.hgetall(this.keyspace.byHash(hash ?? 'missing'));
    const rows = (await pipeline.exec()) ?? [];
    return rows
      .map(([err, row]) => (err ? undefined : this.parse(row as Record<string, string>)))
      .filter((r): r is R => r !== undefined);
  }

  /**
   * Revokes in one script that flips the record and publishes its invalidation, retried when the id's
   * pointer moved between the read and the script (it never does today: pointers are written once).
   */
  async revoke(request: RevokeRequest<R>): Promise<RevokeOutcome> {
    const idKey = this.keyspace.byId(request.id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const hash = await this.redis.get(idKey);
      if (hash === null) return { outcome: 'unknown' };
      if (request.allowed) {
        const current = await this.byHash(hash);
        if (!current || !request.allowed(current)) return { outcome: 'unknown' };
      }
      const { owner } = request;
      try {
        const changed = await this.scripts.run<number>(
          'revokeCredential',
          [idKey, this.keyspace.byHash(hash)],
          [
            hash,
            owner?.field ?? '',
            owner?.value ?? '',
            new Date().toISOString(),
            this.invalidationChannel,
            request.tag(hash),
          ],
        );
        return { outcome: changed === 1 ? 'revoked' : 'already', hash };
      } catch (err) {
        if (err instanceof ScriptError && err.kind === 'not_found') return { outcome: 'unknown' };
        if (!(err instanceof ScriptError && err.kind === 'mismatch')) throw err;
      }
    }
    throw new MnemoError('conflict', 'The credential changed while it was being revoked; try again');
  }

  /** Records last use, at most once a minute per credential on this instance, off the request path. */
  touch(hash: string): void {
    const now = Date.now();
    if (now - (this.lastTouched.get(hash) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.lastTouched.set(hash, now);
    if (this.lastTouched.size > TOUCHED_MEMORY) this.lastTouched.clear();
    this.scripts
      .run('touchCredential', [this.keyspace.byHash(hash)], [new Date(now).toISOString()])
      .catch(this.onTouchError);
  }
}
