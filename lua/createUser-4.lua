--[[
  Provision a user of an organisation (POST /api/v1/admin/users), with its audit entry and event.

  Input:
    KEYS[1] users (HASH id -> JSON)   KEYS[2] usernames (HASH username -> id)
    KEYS[3] workspace event stream    KEYS[4] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] user id   ARGV[7] username   ARGV[8] user JSON
    ARGV[9] audit entry JSON   ARGV[10] audit stream MAXLEN

  Output: 1; -2 when the username is taken
]]
--- @include "appendEvent"
--- @include "appendAudit"
if redis.call('HSETNX', KEYS[2], ARGV[7], ARGV[6]) == 0 then return -2 end
redis.call('HSET', KEYS[1], ARGV[6], ARGV[8])
appendEvent(KEYS[3], readEventContext(), 'user.created', ARGV[8])
appendAudit(KEYS[4], ARGV[10], ARGV[9])
return 1
