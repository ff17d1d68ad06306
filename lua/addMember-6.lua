--[[
  Add a user to a group with a role, or change the role of a member (POST
  /api/v1/admin/groups/{id}/members). The user's cached permissions are dropped on every instance in the
  same step; the change is audited and announced.

  Input:
    KEYS[1] groups (HASH id -> JSON)   KEYS[2] users (HASH id -> JSON)
    KEYS[3] members of the group (HASH user id -> role)   KEYS[4] groups of the user (HASH group id -> role)
    KEYS[5] workspace event stream     KEYS[6] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] group id   ARGV[7] user id   ARGV[8] role   ARGV[9] event data JSON
    ARGV[10] credential invalidation channel   ARGV[11] invalidation message (user:<org>:<id>)
    ARGV[12] audit entry JSON   ARGV[13] audit stream MAXLEN

  Output: 1 added; 0 the role of an existing member changed; -1 no such group or user
]]
--- @include "appendEvent"
--- @include "appendAudit"
if redis.call('HEXISTS', KEYS[1], ARGV[6]) == 0 or redis.call('HEXISTS', KEYS[2], ARGV[7]) == 0 then
  return -1
end
local added = redis.call('HSET', KEYS[3], ARGV[7], ARGV[8])
redis.call('HSET', KEYS[4], ARGV[6], ARGV[8])
redis.call('PUBLISH', ARGV[10], ARGV[11])
appendEvent(KEYS[5], readEventContext(), added == 1 and 'group.member_added' or 'group.member_updated', ARGV[9])
appendAudit(KEYS[6], ARGV[13], ARGV[12])
return added
