--[[
  Change a user (PATCH and DELETE of /api/v1/admin/users/{id}, and every SCIM PUT/PATCH/DELETE of
  /scim/v2/Users): username, role, active, email, display name, and the SCIM attributes kept on the record
  (`scim`). This is the one deactivation mechanism: REST, OIDC and SCIM all come through here. Every
  instance drops the user's cached credentials in the same step (a deactivated user's keys stop working at
  once; a new role applies to the next request), and the change is audited and announced.

  Uniqueness and versions are checked in the same step, before anything is written:
  - an If-Match version (the SHA-1 of the stored record, which is what the SCIM ETag names);
  - the SCIM userName index (lower-cased userName -> id, unique per organisation) follows the record:
    taken over on a rename, released on delete;
  - a new mnemo username must be free in the organisation; the old one is released.

  Input:
    KEYS[1] users (HASH id -> JSON)   KEYS[2] SCIM userNames (HASH lower-cased userName -> id)
    KEYS[3] usernames (HASH username -> id)
    KEYS[4] workspace event stream    KEYS[5] audit stream
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] user id   ARGV[7] JSON object of the fields to set (top-level fields replace stored ones)
    ARGV[8] credential invalidation channel   ARGV[9] invalidation message (user:<org>:<id>)
    ARGV[10] audit entry JSON   ARGV[11] audit stream MAXLEN
    ARGV[12] expected version: SHA-1 hex of the stored record ('' = any)
    ARGV[13] the SCIM userName key the user holds after the change ('' = no change)
    ARGV[14] '1' to release the user's SCIM userName key (the SCIM resource is deleted), else ''

  Output: the new user JSON; -1 when there is no such user; -2 when the SCIM userName key or the new
          username is another user's; -5 when the expected version is not the stored one; -6 when the
          stored record or the change is not JSON (nothing is written)
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "docJson"
-- Read phase: the stored record, its version, the change and both names, all checked before any write.
local raw = redis.call('HGET', KEYS[1], ARGV[6])
if not raw then return -1 end
if ARGV[12] ~= '' and redis.sha1hex(raw) ~= ARGV[12] then return -5 end
local user = decodeDoc(raw)
local change = decodeDoc(ARGV[7])
if not user or not change then return -6 end
local oldKey = nil
if type(user.scim) == 'table' and type(user.scim.name_key) == 'string' then oldKey = user.scim.name_key end
local newKey = ARGV[13]
local renamed = newKey ~= '' and newKey ~= oldKey
if renamed then
  local owner = redis.call('HGET', KEYS[2], newKey)
  if owner and owner ~= ARGV[6] then return -2 end
end
local oldName = user.username
local newName = change.username
if type(newName) == 'string' and newName ~= oldName then
  local holder = redis.call('HGET', KEYS[3], newName)
  if holder and holder ~= ARGV[6] then return -2 end
else
  newName = nil
end
-- Write phase.
local wasActive = user.active
for field, value in pairs(change) do user[field] = value end
user.updated_at = ARGV[4]
local json = cjson.encode(user)
redis.call('HSET', KEYS[1], ARGV[6], json)
local releaseOld = oldKey and (ARGV[14] == '1' or renamed)
if releaseOld and redis.call('HGET', KEYS[2], oldKey) == ARGV[6] then redis.call('HDEL', KEYS[2], oldKey) end
if renamed and ARGV[14] ~= '1' then redis.call('HSET', KEYS[2], newKey, ARGV[6]) end
if newName then
  if type(oldName) == 'string' and redis.call('HGET', KEYS[3], oldName) == ARGV[6] then
    redis.call('HDEL', KEYS[3], oldName)
  end
  redis.call('HSET', KEYS[3], newName, ARGV[6])
end
redis.call('PUBLISH', ARGV[8], ARGV[9])
local ctx = readEventContext()
appendEvent(KEYS[4], ctx, 'user.updated', json)
if wasActive and not user.active then appendEvent(KEYS[4], ctx, 'user.disabled', json) end
if not wasActive and user.active then appendEvent(KEYS[4], ctx, 'user.enabled', json) end
appendAudit(KEYS[5], ARGV[11], ARGV[10])
return json
