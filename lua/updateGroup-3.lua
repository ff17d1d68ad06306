--[[
  Change a group's descriptive fields (PATCH /api/v1/admin/groups/{id}: description; SCIM PUT/PATCH
  /scim/v2/Groups/{id}: displayName, externalId). The
  group's path, and so its scope, never changes: engrams in group:<org>/<path> keep their scope when the
  IdP renames the group. Audited and announced in the same step.

  Input:
    KEYS[1] groups (HASH id -> JSON)   KEYS[2] workspace event stream   KEYS[3] audit stream
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] group id   ARGV[7] JSON object of the fields to set (top-level fields replace stored ones;
    `id`, `name`, `scope` and `parent_id` are refused)
    ARGV[8] audit entry JSON   ARGV[9] audit stream MAXLEN

  Output: the new group JSON; -1 when there is no such group; -6 when the stored record or the change is
          not JSON, or the change touches the group's identity (nothing is written)
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "docJson"
local raw = redis.call('HGET', KEYS[1], ARGV[6])
if not raw then return -1 end
local group = decodeDoc(raw)
local change = decodeDoc(ARGV[7])
if not group or not change then return -6 end
if change.id ~= nil or change.name ~= nil or change.scope ~= nil or change.parent_id ~= nil then return -6 end
for field, value in pairs(change) do group[field] = value end
group.updated_at = ARGV[4]
local json = cjson.encode(group)
redis.call('HSET', KEYS[1], ARGV[6], json)
appendEvent(KEYS[2], readEventContext(), 'group.updated', json)
appendAudit(KEYS[3], ARGV[9], ARGV[8])
return json
