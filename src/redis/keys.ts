/**
 * Every Redis key and channel name is built here and nowhere else.
 *
 * Per-workspace keys carry the hash tag `{<workspace>}` so a workspace lives on one Redis Cluster slot and
 * its Lua scripts stay atomic. The few keys that are not per-workspace use tags that start with `~`, a
 * character workspace ids cannot contain, so they can never collide with a workspace's keys:
 *   {~auth}        layer-API key records and their per-workspace lists (low traffic: cache misses only)
 *   {~rl:<cred>}   one rate-limit bucket family per credential, spread over the cluster
 */
export class Keys {
  constructor(readonly prefix = 'mnemo') {}

  private ws(workspace: string): string {
    return `${this.prefix}:{${workspace}}`;
  }

  // --- auth (global) ---------------------------------------------------------------------------------
  /** HASH: one layer-API key record, found by the SHA-256 of the key. */
  layerKeyByHash(keyHash: string): string {
    return `${this.prefix}:{~auth}:layer:h:${keyHash}`;
  }
  /** STRING: key_id -> SHA-256 of the key. */
  layerKeyById(keyId: string): string {
    return `${this.prefix}:{~auth}:layer:id:${keyId}`;
  }
  /** ZSET: key_ids of one workspace scored by creation time (ms). */
  layerKeysOfWorkspace(workspace: string): string {
    return `${this.prefix}:{~auth}:layer:ws:${workspace}`;
  }
  /** Pub/sub channel announcing credentials that must be dropped from every instance's cache. */
  credentialInvalidationChannel(): string {
    return `${this.prefix}:auth:invalidate`;
  }

  // --- rate limiting ---------------------------------------------------------------------------------
  /** STRING (GCRA theoretical arrival time) of one bucket of one credential. */
  rateLimitBucket(credentialId: string, bucket: string): string {
    return `${this.prefix}:{~rl:${credentialId}}:${bucket}`;
  }

  // --- events ------------------------------------------------------------------------------------------
  /** STREAM: every change of the workspace, the source for WebSocket resume and index catch-up. */
  eventStream(workspace: string): string {
    return `${this.ws(workspace)}:events`;
  }
  /** Pub/sub channel carrying each new event envelope of the workspace as JSON. */
  eventChannel(workspace: string): string {
    return `${this.prefix}:ev:{${workspace}}`;
  }

  /** BullMQ's `prefix` option (queues get their own hash tags from BullMQ). */
  bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
}
