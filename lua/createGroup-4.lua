--[[
  Create a group (POST /api/v1/admin/groups). Its path is unique in the organisation. Cached principals of
  the organisation are dropped, because the scopes they list include the groups under their memberships.

  Input:
    KEYS[1] groups (HASH id -> JSON)   KEYS[2] group paths (HASH path -> id)
    KEYS[3] workspace event stream     KEYS[4] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] group id   ARGV[7] path   ARGV[8] group JSON
    ARGV[9] credential invalidation channel   ARGV[10] invalidation message (org:<org>)
    ARGV[11] audit entry JSON   ARGV[12] audit stream MAXLEN

  Output: 1; -2 when a group with this path exists
]]
--- @include "appendEvent"
--- @include "appendAudit"
if redis.call('HSETNX', KEYS[2], ARGV[7], ARGV[6]) == 0 then return -2 end
redis.call('HSET', KEYS[1], ARGV[6], ARGV[8])
redis.call('PUBLISH', ARGV[9], ARGV[10])
appendEvent(KEYS[3], readEventContext(), 'group.created', ARGV[8])
appendAudit(KEYS[4], ARGV[12], ARGV[11])
return 1
