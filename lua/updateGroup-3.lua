--[[
  Change a group's description (PATCH /api/v1/admin/groups/{id}). The name, and with it the scope, stays:
  engrams live under the scope, so a rename would strand them. Audited and announced.

  Input:
    KEYS[1] groups (HASH id -> JSON)   KEYS[2] workspace event stream   KEYS[3] audit stream
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] group id   ARGV[7] JSON object of the fields to set (scalars only)
    ARGV[8] audit entry JSON   ARGV[9] audit stream MAXLEN

  Output: the new group JSON; -1 when there is no such group; -6 when the record or the change is not JSON
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "docJson"
local raw = redis.call('HGET', KEYS[1], ARGV[6])
if not raw then return -1 end
local group = decodeDoc(raw)
local change = decodeDoc(ARGV[7])
if not group or not change then return -6 end
for field, value in pairs(change) do group[field] = value end
group.updated_at = ARGV[4]
local json = cjson.encode(group)
redis.call('HSET', KEYS[1], ARGV[6], json)
appendEvent(KEYS[2], readEventContext(), 'group.updated', json)
appendAudit(KEYS[3], ARGV[9], ARGV[8])
return json
