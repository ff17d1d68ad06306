--[[
  Delete a group that has no members left and no groups below it (SCIM DELETE /scim/v2/Groups/{id}; the
  service removes the members first, each with its own event). Engrams in the group's scope stay; with no
  group left to grant it, only organisation admins read that scope. Cached principals of the organisation
  are dropped (the scopes they list may include the group), and the change is audited and announced.

  Input:
    KEYS[1] groups (HASH id -> JSON)   KEYS[2] group paths (HASH path -> id)
    KEYS[3] members of the group (HASH user id -> role)
    KEYS[4] workspace event stream     KEYS[5] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] group id   ARGV[7] group path
    ARGV[8] credential invalidation channel   ARGV[9] invalidation message (org:<org>)
    ARGV[10] audit entry JSON   ARGV[11] audit stream MAXLEN

  Output: 1 deleted; -1 no such group; -3 the group still has members or subgroups; -6 the stored record
          is not JSON (nothing is written)
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "docJson"
local raw = redis.call('HGET', KEYS[1], ARGV[6])
if not raw then return -1 end
local group = decodeDoc(raw)
if not group then return -6 end
if redis.call('HLEN', KEYS[3]) > 0 then return -3 end
local below = ARGV[7] .. '/'
for _, path in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(path, 1, #below) == below then return -3 end
end
redis.call('HDEL', KEYS[1], ARGV[6])
if redis.call('HGET', KEYS[2], ARGV[7]) == ARGV[6] then redis.call('HDEL', KEYS[2], ARGV[7]) end
redis.call('PUBLISH', ARGV[8], ARGV[9])
appendEvent(KEYS[4], readEventContext(), 'group.deleted', cjson.encode(group))
appendAudit(KEYS[5], ARGV[11], ARGV[10])
return 1
