--[[
  Delete a group (DELETE /api/v1/admin/groups/{id}; SCIM DELETE removes the members first, each with its
  own event, then comes here). Only an empty group goes: one with members or
  subgroups is refused, so no membership is left pointing at nothing and no scope loses its parent. Its
  engrams stay in its scope (an org admin still reads them). Cached principals of the organisation are
  dropped (their scope lists name the group); audited and announced.

  Input:
    KEYS[1] groups (HASH id -> JSON)   KEYS[2] group paths (HASH path -> id)
    KEYS[3] the group's members (HASH user id -> role)   KEYS[4] workspace event stream
    KEYS[5] audit stream
    ARGV[1..5] event context
    ARGV[6] group id
    ARGV[7] credential invalidation channel   ARGV[8] invalidation message (org:<org>)
    ARGV[9] audit entry JSON   ARGV[10] audit stream MAXLEN

  Output: the deleted group JSON; -1 when there is no such group; -2 when it has members or subgroups;
          -6 when the stored record is not JSON
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "docJson"
local raw = redis.call('HGET', KEYS[1], ARGV[6])
if not raw then return -1 end
local group = decodeDoc(raw)
if not group or type(group.name) ~= 'string' then return -6 end
if redis.call('HLEN', KEYS[3]) > 0 then return -2 end
local prefix = group.name .. '/'
for _, path in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(path, 1, #prefix) == prefix then return -2 end
end
redis.call('HDEL', KEYS[1], ARGV[6])
if redis.call('HGET', KEYS[2], group.name) == ARGV[6] then redis.call('HDEL', KEYS[2], group.name) end
redis.call('DEL', KEYS[3])
redis.call('PUBLISH', ARGV[7], ARGV[8])
appendEvent(KEYS[4], readEventContext(), 'group.deleted', raw)
appendAudit(KEYS[5], ARGV[10], ARGV[9])
return raw
