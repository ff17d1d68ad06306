import type { IndexEventRules } from '../search/index-manager.js';

/**
 * Event types of the engram API. Engram events carry the whole stored engram document as data (so
 * `data.scope` is always there for permission filtering); session events the session record (with its
 * scope); episode.captured the episode document; identity events the user or group record, or
 * {group_id, user_id, role, scope} for memberships; API key events the key record without the key; scope
 * metadata events the metadata record, or {scope} when it is removed; pack events {name, version, scope}
 * with the counts of the change (installed, duplicates, retired, removed, engram_count).
 */
export const ENGRAM_EVENT_TYPES = [
  'engram.created',
  'engram.updated',
  'engram.retired',
  'engram.pinned',
  'engram.unpinned',
  'engram.promoted',
  'engram.feedback',
  'engram.accessed',
  'episode.captured',
  'session.started',
  'session.ended',
  'user.created',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.signed_out',
  'group.created',
  'group.updated',
  'group.deleted',
  'group.member_added',
  'group.member_updated',
  'group.member_removed',
  'apikey.issued',
  'apikey.revoked',
  'scope.metadata_set',
  'scope.metadata_deleted',
  // SCIM provisioning (src/scim): SCIM tokens issued and revoked.
  'scim_token.issued',
  'scim_token.revoked',
  'pack.installed',
  'pack.uninstalled',
  'pack.exported',
] as const;

export type EngramEventType = (typeof ENGRAM_EVENT_TYPES)[number];

/**
 * How the search index applies engram events: each carries the full document, so all of them upsert.
 * (episode.captured needs no rule: the same script appends memory.episode.added, which the index applies.)
 */
export const ENGRAM_INDEX_RULES: IndexEventRules = {
  'engram.created': 'upsert',
  'engram.updated': 'upsert',
  'engram.retired': 'upsert',
  'engram.pinned': 'upsert',
  'engram.unpinned': 'upsert',
  'engram.promoted': 'upsert',
  'engram.feedback': 'upsert',
  'engram.accessed': 'upsert',
};
