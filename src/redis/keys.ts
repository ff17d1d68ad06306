import type { Tenant } from '../tenant.js';

/**
 * Where one kind of credential lives under `{~auth}`: its record under the secret's SHA-256 (one lookup per
 * presented secret), an id -> hash pointer (admins name credentials by id), and its owner's list (a
 * workspace's layer keys, an organisation's engram keys or SCIM tokens), newest first.
 */
export interface CredentialKeyspace {
  byHash(hash: string): string;
  byId(id: string): string;
  ofOwner(owner: string): string;
}

/**
 * Every Redis key and channel name is built here and nowhere else.
 *
 * Per-tenant keys carry the hash tag `{<tenant>}` (src/tenant.ts: a layer workspace `W` or an engram
 * organisation `org:O`, never both) so a tenant lives on one Redis Cluster slot and its Lua scripts stay
 * atomic. Every per-tenant method takes a `Tenant`, so a bare workspace or organisation id cannot become a
 * key. The few keys that are not per-workspace use tags that start with `~`, a
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

  private ws(tenant: Tenant): string {
    return `${this.prefix}:{${tenant}}`;
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
  /** HASH: one SCIM bearer token record (plur_scim_...), found by the SHA-256 of the token. */
  scimTokenByHash(tokenHash: string): string {
    return `${this.prefix}:{~auth}:scim:h:${tokenHash}`;
  }
  /** STRING: SCIM token id -> SHA-256 of the token. */
  scimTokenById(tokenId: string): string {
    return `${this.prefix}:{~auth}:scim:id:${tokenId}`;
  }
  /** ZSET: SCIM token ids of one organisation scored by creation time (ms). */
  scimTokensOfOrg(org: string): string {
    return `${this.prefix}:{~auth}:scim:org:${org}`;
  }
  /** Where each credential kind lives (src/auth/credential-records.ts): the three keys above, per kind. */
  credentialKeyspace(kind: 'layer' | 'plur' | 'scim'): CredentialKeyspace {
    if (kind === 'layer')
      return {
        byHash: (hash) => this.layerKeyByHash(hash),
        byId: (id) => this.layerKeyById(id),
        ofOwner: (workspace) => this.layerKeysOfWorkspace(workspace),
      };
    if (kind === 'plur')
      return {
        byHash: (hash) => this.plurKeyByHash(hash),
        byId: (id) => this.plurKeyById(id),
        ofOwner: (org) => this.plurKeysOfOrg(org),
      };
    return {
      byHash: (hash) => this.scimTokenByHash(hash),
      byId: (id) => this.scimTokenById(id),
      ofOwner: (org) => this.scimTokensOfOrg(org),
    };
  }
  /** Pub/sub channel announcing credentials that must be dropped from every instance's cache. */
  credentialInvalidationChannel(): string {
    return `${this.prefix}:auth:invalidate`;
  }

  // --- rate limiting ---------------------------------------------------------------------------------
  /**
   * ZSET (sliding log: the times of the allowed requests still in the window) of one bucket of one
   * credential. Named `log:` so the STRING buckets of the earlier GCRA limiter are never read as one.
   */
  rateLimitBucket(credentialId: string, bucket: string): string {
    return `${this.prefix}:{~rl:${credentialId}}:log:${bucket}`;
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
  eventStream(tenant: Tenant): string {
    return `${this.ws(tenant)}:events`;
  }
  /** Shard pub/sub channel (SPUBLISH) carrying each new event envelope of the workspace as JSON; its hash tag
   *  is the workspace's, so on a cluster it lives on the shard of the workspace's keys. */
  eventChannel(tenant: Tenant): string {
    return `${this.prefix}:ev:{${tenant}}`;
  }

  // --- memory documents (per workspace) -------------------------------------------------------------
  /** HASH id -> JSON document of every recallable memory (working entry, episode, fact, engram). */
  docs(tenant: Tenant): string {
    return `${this.ws(tenant)}:docs`;
  }
  /** HASH id -> float32 vector bytes (little endian) of the documents. */
  vectors(tenant: Tenant): string {
    return `${this.ws(tenant)}:vecs`;
  }
  /**
   * HASH naming the current persisted search-index snapshot of the tenant (src/memory/search/snapshot-store.ts):
   * gen, position (stream id it reflects), chunks, info (JSON identity and counts), floor (no snapshot
   * older than this stream id may be committed: set by erasure), retiring (displaced generations).
   */
  indexSnapshotMeta(tenant: Tenant): string {
    return `${this.ws(tenant)}:isnap`;
  }
  /** STRING: chunk `n` (at most 8 MB) of snapshot generation `gen` of the tenant's search index. */
  indexSnapshotChunk(tenant: Tenant, gen: string, n: number): string {
    return `${this.ws(tenant)}:isnap:${gen}:${n}`;
  }
  /** ZSET importance -> id: the working memory of one namespace (eviction order). */
  workingEntries(tenant: Tenant, namespace: string): string {
    return `${this.ws(tenant)}:wm:${namespace}`;
  }
  /** ZSET expires_ms -> id: working entries of one namespace that have a TTL. */
  workingExpiry(tenant: Tenant, namespace: string): string {
    return `${this.ws(tenant)}:wmexp:${namespace}`;
  }
  /** ZSET namespace -> earliest expiry of its working entries (what the sweeper visits). */
  workingExpiryIndex(tenant: Tenant): string {
    return `${this.ws(tenant)}:wmexp-ns`;
  }
  /** ZSET created_ms -> id of episodes. */
  episodes(tenant: Tenant): string {
    return `${this.ws(tenant)}:episodes`;
  }
  /** ZSET created_ms -> id of facts (current and superseded). */
  facts(tenant: Tenant): string {
    return `${this.ws(tenant)}:facts`;
  }
  /** HASH fingerprint (namespace+subject+predicate+object) -> fact id, for deduplication. */
  factFingerprints(tenant: Tenant): string {
    return `${this.ws(tenant)}:fact-fp`;
  }
  /** HASH slot -> id of the current fact holding it, for supersession of single-valued predicates. */
  factSlots(tenant: Tenant): string {
    return `${this.ws(tenant)}:fact-slot`;
  }
  /** HASH working, episodic, semantic (counts), last_write. */
  stats(tenant: Tenant): string {
    return `${this.ws(tenant)}:stats`;
  }
  /** ZSET agent_id -> last write ms. */
  agents(tenant: Tenant): string {
    return `${this.ws(tenant)}:agents`;
  }
  /** ZSET namespace key -> last write ms. */
  namespaces(tenant: Tenant): string {
    return `${this.ws(tenant)}:namespaces`;
  }
  /** SET of the ids of one user's documents, for erasure (right to be forgotten). */
  userDocs(tenant: Tenant, userId: string): string {
    return `${this.ws(tenant)}:userdocs:${userId}`;
  }
  // --- engram API (per organisation tenant, org:<org>) ---------------------------------------------------
  /** HASH "<scope>\n<content hash>" -> id of the live engram with that statement in that scope. */
  engramHashes(tenant: Tenant): string {
    return `${this.ws(tenant)}:eng-hash`;
  }
  /** STRING: counter of the engram ids of one day (ENG-<day>-NNN); expires after a few days. */
  engramIdCounter(tenant: Tenant, day: string): string {
    return `${this.ws(tenant)}:eng-seq:${day}`;
  }
  /** HASH session id -> JSON session record. */
  sessions(tenant: Tenant): string {
    return `${this.ws(tenant)}:sessions`;
  }
  /** HASH user id -> JSON user record of the organisation. */
  users(tenant: Tenant): string {
    return `${this.ws(tenant)}:users`;
  }
  /** HASH username -> user id (usernames are unique per organisation). */
  usernames(tenant: Tenant): string {
    return `${this.ws(tenant)}:usernames`;
  }
  /** HASH group id -> JSON group record. */
  groups(tenant: Tenant): string {
    return `${this.ws(tenant)}:groups`;
  }
  /** HASH group path (team/sub) -> group id (paths are unique per organisation). */
  groupPaths(tenant: Tenant): string {
    return `${this.ws(tenant)}:group-paths`;
  }
  /** HASH scope -> JSON metadata of the scope (description, covers, sensitivity, ...; /api/v1/me). */
  scopeMetadata(tenant: Tenant): string {
    return `${this.ws(tenant)}:scope-meta`;
  }
  /** HASH user id -> role: the members of one group. */
  groupMembers(tenant: Tenant, groupId: string): string {
    return `${this.ws(tenant)}:gm:${groupId}`;
  }
  /** HASH group id -> role: the groups of one user. */
  userGroups(tenant: Tenant, userId: string): string {
    return `${this.ws(tenant)}:ug:${userId}`;
  }
  /**
   * HASH lower-cased SCIM userName -> user id: SCIM userNames are unique per organisation ignoring case
   * (RFC 7643 §4.1.1); the mnemo username of a SCIM user is fixed when it is provisioned (src/scim).
   */
  scimUserNames(tenant: Tenant): string {
    return `${this.ws(tenant)}:scim-usernames`;
  }
  /** HASH pack name -> JSON record of an installed pack (/api/v1/packs). */
  packs(tenant: Tenant): string {
    return `${this.ws(tenant)}:packs`;
  }
  /** HASH engram id -> content fingerprint at install: the engrams one installed pack created. */
  packEngrams(tenant: Tenant, name: string): string {
    return `${this.ws(tenant)}:pack-eng:${name}`;
  }
  /** STREAM: audit entries of the organisation (capped). */
  audit(tenant: Tenant): string {
    return `${this.ws(tenant)}:audit`;
  }
  /** HASH "<issuer> <sub>" -> user id: the users single sign-on provisioned, by identity (never by email). */
  oidcIdentities(tenant: Tenant): string {
    return `${this.ws(tenant)}:oidc-ids`;
  }
  /** STRING with a TTL: the session (its jti) was ended by POST /auth/logout before it expired. */
  revokedSession(tenant: Tenant, sessionId: string): string {
    return `${this.ws(tenant)}:ses-revoked:${sessionId}`;
  }

  // --- insights (per organisation tenant; GET /api/v1/admin/insights) -------------------------------------
  /** HASH of one UTC day's counters: recall, inject, learn, auth_failures, rate_limited (expires ~100 days). */
  insightDay(tenant: Tenant, day: string): string {
    return `${this.ws(tenant)}:ins-day:${day}`;
  }
  /** HyperLogLog of the user ids that made an authenticated engram-API request on one UTC day (expires ~100 days). */
  insightUsers(tenant: Tenant, day: string): string {
    return `${this.ws(tenant)}:ins-users:${day}`;
  }
  /**
   * STRING counting one credential's rate-limit rejections in one minute (epoch minute); its first
   * increment writes the aggregated `rate_limit.exceeded` audit entry. Expires after two minutes.
   */
  rateLimitedMinute(tenant: Tenant, credentialId: string, minute: number): string {
    return `${this.ws(tenant)}:rl-min:${credentialId}:${minute}`;
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

  // --- webhooks (per tenant: layer workspace or engram organisation) ---------------------------------------
  /** ZSET webhook id -> creation ms: the webhooks of a tenant. */
  webhookIds(tenant: Tenant): string {
    return `${this.ws(tenant)}:webhooks`;
  }
  /** HASH of one webhook: config (JSON), secret / prev_secret (encrypted), prev_until, active, health. */
  webhook(tenant: Tenant, webhookId: string): string {
    return `${this.ws(tenant)}:webhook:${webhookId}`;
  }
  /** HASH delivery id -> JSON delivery record of one webhook (the deliveries log, capped). */
  webhookDeliveries(tenant: Tenant, webhookId: string): string {
    return `${this.ws(tenant)}:whd:${webhookId}`;
  }
  /** ZSET delivery id -> creation ms: the order of the deliveries log (trimmed with it). */
  webhookDeliveryIndex(tenant: Tenant, webhookId: string): string {
    return `${this.ws(tenant)}:whd-idx:${webhookId}`;
  }
  /** ZSET delivery id -> ms until which its slot is held: deliveries of one webhook in flight. */
  webhookInflight(tenant: Tenant, webhookId: string): string {
    return `${this.ws(tenant)}:wh-inflight:${webhookId}`;
  }
  /** ZSET (all scores 0, lexical) "<webhook id>|<padded event id>|<delivery id>": first attempts in event order. */
  webhookPending(tenant: Tenant): string {
    return `${this.ws(tenant)}:wh-pending`;
  }
  /** STRING: the id of the last event of the tenant's stream the webhook dispatcher has enqueued. */
  webhookCursor(tenant: Tenant): string {
    return `${this.ws(tenant)}:wh-cursor`;
  }
  /** STRING with a TTL: the instance that dispatches the tenant's stream now (its lease). */
  webhookLease(tenant: Tenant): string {
    return `${this.ws(tenant)}:wh-lease`;
  }
  /** SET of the tenants that have (or had) webhooks: the streams dispatchers watch. */
  webhookTenants(): string {
    return `${this.prefix}:{~sys}:webhook-tenants`;
  }
}
