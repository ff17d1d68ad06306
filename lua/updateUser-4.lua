--[[
  Change a user (PATCH /api/v1/admin/users/{id}, DELETE deactivates): username, role, active, email,
  display name. Every instance drops the user's cached credentials in the same step (a deactivated user's
  keys stop working at once; a new role applies to the next request), and the change is audited and
  announced. This is the one deactivation mechanism: REST, OIDC and SCIM all come through here.
  A new username must be free in the organisation; the old one is released.

  Input:
    KEYS[1] users (HASH id -> JSON)   KEYS[2] usernames (HASH username -> id)
    KEYS[3] workspace event stream    KEYS[4] audit stream
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] user id   ARGV[7] JSON object of the fields to set (user records hold scalars only)
    ARGV[8] credential invalidation channel   ARGV[9] invalidation message (user:<org>:<id>)
    ARGV[10] audit entry JSON   ARGV[11] audit stream MAXLEN

  Output: the new user JSON; -1 when there is no such user; -2 when the new username is taken;
          -6 when the stored record or the change is not JSON (nothing is written)
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "docJson"
-- Read phase: the stored record and the change decoded, and the new username checked, before any write.
local raw = redis.call('HGET', KEYS[1], ARGV[6])
if not raw then return -1 end
local user = decodeDoc(raw)
local change = decodeDoc(ARGV[7])
if not user or not change then return -6 end
local oldName = user.username
local newName = change.username
if type(newName) == 'string' and newName ~= oldName then
  local holder = redis.call('HGET', KEYS[2], newName)
  if holder and holder ~= ARGV[6] then return -2 end
else
  newName = nil
end
local wasActive = user.active
for field, value in pairs(change) do user[field] = value end
user.updated_at = ARGV[4]
local json = cjson.encode(user)
redis.call('HSET', KEYS[1], ARGV[6], json)
if newName then
  if type(oldName) == 'string' and redis.call('HGET', KEYS[2], oldName) == ARGV[6] then
    redis.call('HDEL', KEYS[2], oldName)
  end
  redis.call('HSET', KEYS[2], newName, ARGV[6])
end
redis.call('PUBLISH', ARGV[8], ARGV[9])
local ctx = readEventContext()
appendEvent(KEYS[3], ctx, 'user.updated', json)
if wasActive and not user.active then appendEvent(KEYS[3], ctx, 'user.disabled', json) end
if not wasActive and user.active then appendEvent(KEYS[3], ctx, 'user.enabled', json) end
appendAudit(KEYS[4], ARGV[11], ARGV[10])
return json
