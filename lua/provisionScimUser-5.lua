--[[
  Provision a user through SCIM (POST /scim/v2/Users), with its audit entry and event. The SCIM userName
  is unique per organisation ignoring case (KEYS[3]); the mnemo username derived from it (which names the
  personal scope user:<org>:<username>) is unique too (KEYS[2]). Either being taken is a conflict, and
  nothing is written.

  Input:
    KEYS[1] users (HASH id -> JSON)   KEYS[2] usernames (HASH username -> id)
    KEYS[3] SCIM userNames (HASH lower-cased userName -> id)
    KEYS[4] workspace event stream    KEYS[5] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] user id   ARGV[7] mnemo username   ARGV[8] lower-cased SCIM userName   ARGV[9] user JSON
    ARGV[10] audit entry JSON   ARGV[11] audit stream MAXLEN

  Output: 1; -2 when the SCIM userName or the mnemo username is taken
]]
--- @include "appendEvent"
--- @include "appendAudit"
if redis.call('HEXISTS', KEYS[3], ARGV[8]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[7]) == 1 then
  return -2
end
redis.call('HSET', KEYS[2], ARGV[7], ARGV[6])
redis.call('HSET', KEYS[3], ARGV[8], ARGV[6])
redis.call('HSET', KEYS[1], ARGV[6], ARGV[9])
appendEvent(KEYS[4], readEventContext(), 'user.created', ARGV[9])
appendAudit(KEYS[5], ARGV[11], ARGV[10])
return 1
