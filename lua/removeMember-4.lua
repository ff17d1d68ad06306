--[[
  Remove a user from a group (DELETE /api/v1/admin/groups/{id}/members/{user_id}). The user's cached
  permissions are dropped on every instance in the same step; the change is audited and announced.

  Input:
    KEYS[1] members of the group (HASH user id -> role)   KEYS[2] groups of the user (HASH group id -> role)
    KEYS[3] workspace event stream   KEYS[4] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] group id   ARGV[7] user id   ARGV[8] event data JSON
    ARGV[9] credential invalidation channel   ARGV[10] invalidation message (user:<org>:<id>)
    ARGV[11] audit entry JSON   ARGV[12] audit stream MAXLEN

  Output: 1 removed; -1 the user is not a member of the group
]]
--- @include "appendEvent"
--- @include "appendAudit"
if redis.call('HDEL', KEYS[1], ARGV[7]) == 0 then return -1 end
redis.call('HDEL', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[9], ARGV[10])
appendEvent(KEYS[3], readEventContext(), 'group.member_removed', ARGV[8])
appendAudit(KEYS[4], ARGV[12], ARGV[11])
return 1
