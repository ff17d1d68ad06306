--[[
  Remove the metadata of one scope (DELETE /api/v1/admin/scopes/{scope}), with its event and audit entry.

  Input:
    KEYS[1] scope metadata (HASH scope -> JSON)
    KEYS[2] workspace event stream   KEYS[3] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] scope (canonical)   ARGV[7] event data JSON ({"scope": ...})
    ARGV[8] audit entry JSON    ARGV[9] audit stream MAXLEN

  Output: 1; -1 when the scope has no metadata
]]
--- @include "appendEvent"
--- @include "appendAudit"
if redis.call('HDEL', KEYS[1], ARGV[6]) == 0 then return -1 end
appendEvent(KEYS[2], readEventContext(), 'scope.metadata_deleted', ARGV[7])
appendAudit(KEYS[3], ARGV[9], ARGV[8])
return 1
