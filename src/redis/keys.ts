/**
 * Every Redis key and channel name is built here and nowhere else.
 *
 * Per-workspace keys carry the hash tag `{<workspace>}` so a workspace lives on one Redis Cluster slot and
 * its Lua scripts stay atomic. The few keys that are not per-workspace use tags that start with `~`, a
 * character workspace ids cannot contain, so they can never collide with a workspace's keys:
 *   {~auth}        layer-API and engram-API key records and their lists (low traffic: cache misses only)
 *   {~rl:<cred>}   one rate-limit bucket family per credential, spread over the cluster (the admin key on
 *                  the engram API counts as one credential per organisation: plur-admin:<org>)
 *   {~authfail:<addr>} failed authentications of one client address
 *   {~sys}         the list of workspaces the maintenance sweeper visits
 *   {~bull}        BullMQ's queues (see bullPrefix)
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
  /** HASH: one engram-API key record (plur_sk_...), found by the SHA-256 of the key. */
  plurKeyByHash(keyHash: string): string {
    return `${this.prefix}:{~auth}:plur:h:${keyHash}`;
  }
  /** STRING: engram-API key id -> SHA-256 of the key. */
  plurKeyById(keyId: string): string {
    return `${this.prefix}:{~auth}:plur:id:${keyId}`;
  }
  /** ZSET: engram-API key ids of one organisation scored by creation time (ms). */
  plurKeysOfOrg(org: string): string {
    return `${this.prefix}:{~auth}:plur:org:${org}`;
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

  /**
   * STRING (GCRA theoretical arrival time) counting the failed authentications of one client address, in
   * its own slot: every instance shares it, and one address guessing keys touches no other key.
   */
  authFailures(address: string): string {
    return `${this.prefix}:{~authfail:${address}}`;
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

  // --- memory documents (per workspace) -------------------------------------------------------------
  /** HASH id -> JSON document of every recallable memory (working entry, episode, fact, engram). */
  docs(workspace: string): string {
    return `${this.ws(workspace)}:docs`;
  }
  /** HASH id -> float32 vector bytes (little endian) of the documents. */
  vectors(workspace: string): string {
    return `${this.ws(workspace)}:vecs`;
  }
  /** ZSET importance -> id: the working memory of one namespace (eviction order). */
  workingEntries(workspace: string, namespace: string): string {
    return `${this.ws(workspace)}:wm:${namespace}`;
  }
  /** ZSET expires_ms -> id: working entries of one namespace that have a TTL. */
  workingExpiry(workspace: string, namespace: string): string {
    return `${this.ws(workspace)}:wmexp:${namespace}`;
  }
  /** ZSET namespace -> earliest expiry of its working entries (what the sweeper visits). */
  workingExpiryIndex(workspace: string): string {
    return `${this.ws(workspace)}:wmexp-ns`;
  }
  /** ZSET created_ms -> id of episodes. */
  episodes(workspace: string): string {
    return `${this.ws(workspace)}:episodes`;
  }
  /** ZSET created_ms -> id of facts (current and superseded). */
  facts(workspace: string): string {
    return `${this.ws(workspace)}:facts`;
  }
  /** HASH fingerprint (namespace+subject+predicate+object) -> fact id, for deduplication. */
  factFingerprints(workspace: string): string {
    return `${this.ws(workspace)}:fact-fp`;
  }
  /** HASH slot -> id of the current fact holding it, for supersession of single-valued predicates. */
  factSlots(workspace: string): string {
    return `${this.ws(workspace)}:fact-slot`;
  }
  /** HASH working, episodic, semantic (counts), last_write. */
  stats(workspace: string): string {
    return `${this.ws(workspace)}:stats`;
  }
  /** ZSET agent_id -> last write ms. */
  agents(workspace: string): string {
    return `${this.ws(workspace)}:agents`;
  }
  /** ZSET namespace key -> last write ms. */
  namespaces(workspace: string): string {
    return `${this.ws(workspace)}:namespaces`;
  }
  /** SET of the ids of one user's documents, for erasure (right to be forgotten). */
  userDocs(workspace: string, userId: string): string {
    return `${this.ws(workspace)}:userdocs:${userId}`;
  }
  // --- engram API (per organisation = workspace) ---------------------------------------------------
  /** HASH "<scope>\n<content hash>" -> id of the live engram with that statement in that scope. */
  engramHashes(workspace: string): string {
    return `${this.ws(workspace)}:eng-hash`;
  }
  /** STRING: counter of the engram ids of one day (ENG-<day>-NNN); expires after a few days. */
  engramIdCounter(workspace: string, day: string): string {
    return `${this.ws(workspace)}:eng-seq:${day}`;
  }
  /** HASH session id -> JSON session record. */
  sessions(workspace: string): string {
    return `${this.ws(workspace)}:sessions`;
  }
  /** HASH user id -> JSON user record of the organisation. */
  users(workspace: string): string {
    return `${this.ws(workspace)}:users`;
  }
  /** HASH username -> user id (usernames are unique per organisation). */
  usernames(workspace: string): string {
    return `${this.ws(workspace)}:usernames`;
  }
  /** HASH group id -> JSON group record. */
  groups(workspace: string): string {
    return `${this.ws(workspace)}:groups`;
  }
  /** HASH group path (team/sub) -> group id (paths are unique per organisation). */
  groupPaths(workspace: string): string {
    return `${this.ws(workspace)}:group-paths`;
  }
  /** HASH user id -> role: the members of one group. */
  groupMembers(workspace: string, groupId: string): string {
    return `${this.ws(workspace)}:gm:${groupId}`;
  }
  /** HASH group id -> role: the groups of one user. */
  userGroups(workspace: string, userId: string): string {
    return `${this.ws(workspace)}:ug:${userId}`;
  }
  /** STREAM: audit entries of the organisation (capped). */
  audit(workspace: string): string {
    return `${this.ws(workspace)}:audit`;
  }

  /** SET of workspaces that have working entries with a TTL (visited by the expiry sweeper). */
  ttlWorkspaces(): string {
    return `${this.prefix}:{~sys}:ttl-workspaces`;
  }

  /**
   * BullMQ's `prefix` option. BullMQ's scripts touch several keys of one queue at once and it adds no hash
   * tag of its own, so the tag is in the prefix: every queue lives on one Cluster slot (job traffic is
   * small next to memory traffic, which is spread by workspace).
   */
  bullPrefix(): string {
    return `${this.prefix}:{~bull}`;
  }
}
