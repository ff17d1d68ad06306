--[[
  Set the metadata of one scope of an organisation (PUT /api/v1/admin/scopes/{scope}), replacing what it
  had, with its event and audit entry. A group scope must name an existing group; other scopes (global,
  org:, project:) exist by their name.

  Input:
    KEYS[1] scope metadata (HASH scope -> JSON)   KEYS[2] group paths (HASH path -> id)
    KEYS[3] workspace event stream                KEYS[4] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] scope (canonical)   ARGV[7] group path, '' when the scope is not a group scope
    ARGV[8] metadata JSON
    ARGV[9] audit entry JSON   ARGV[10] audit stream MAXLEN

  Output: 1 when the scope had no metadata, 0 when it was replaced; -1 when the group does not exist
]]
--- @include "appendEvent"
--- @include "appendAudit"
if ARGV[7] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[7]) == 0 then return -1 end
local created = redis.call('HSET', KEYS[1], ARGV[6], ARGV[8])
appendEvent(KEYS[3], readEventContext(), 'scope.metadata_set', ARGV[8])
appendAudit(KEYS[4], ARGV[10], ARGV[9])
return created
