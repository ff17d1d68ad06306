--[[
  Just-in-time provisioning at single sign-on: the user linked to an identity (issuer + sub), created and
  linked on first sight. An identity is never matched to an existing user by name or email: a user
  provisioned by an admin with the same username does not become this identity; the new user takes the
  fallback username instead.

  Input:
    KEYS[1] users (HASH id -> JSON)   KEYS[2] usernames (HASH username -> id)
    KEYS[3] identities (HASH "<issuer> <sub>" -> user id)
    KEYS[4] workspace event stream    KEYS[5] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] identity ("<issuer> <sub>")   ARGV[7] new user id
    ARGV[8] username   ARGV[9] fallback username (when ARGV[8] is taken)
    ARGV[10] new user JSON without its username   ARGV[11] audit entry JSON   ARGV[12] audit stream MAXLEN

  Output: the linked user's JSON (existing or new); -2 when both usernames are taken; -6 when the new user
          JSON is not an object (nothing is written)
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "docJson"
local linked = redis.call('HGET', KEYS[3], ARGV[6])
if linked then
  local existing = redis.call('HGET', KEYS[1], linked)
  if existing then return existing end
end
local user = decodeDoc(ARGV[10])
if not user then return -6 end
local username = ARGV[8]
if redis.call('HEXISTS', KEYS[2], username) == 1 then
  username = ARGV[9]
  if redis.call('HEXISTS', KEYS[2], username) == 1 then return -2 end
end
user.id = ARGV[7]
user.username = username
local json = cjson.encode(user)
redis.call('HSET', KEYS[2], username, ARGV[7])
redis.call('HSET', KEYS[1], ARGV[7], json)
redis.call('HSET', KEYS[3], ARGV[6], ARGV[7])
appendEvent(KEYS[4], readEventContext(), 'user.created', json)
appendAudit(KEYS[5], ARGV[12], ARGV[11])
return json
