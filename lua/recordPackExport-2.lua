--[[
  Record a pack export (POST /api/v1/packs/export): an export changes no data, but it is announced
  (pack.exported) and audited in one step, so a download that was served always has its entry.

  Input:
    KEYS[1] workspace event stream   KEYS[2] audit stream of the organisation
    ARGV[1..5] event context   ARGV[6] event data JSON (an object)   ARGV[7] audit entry JSON
    ARGV[8] audit stream MAXLEN

  Output: 1; -6 when the event data or the audit entry is not a JSON object (nothing is written)
]]
--- @include "appendEvent"
--- @include "docJson"
--- @include "appendAudit"
local ctx = readEventContext()
local data = decodeDoc(ARGV[6])
local entry = decodeDoc(ARGV[7])
if not data or not entry then return -6 end
appendEvent(KEYS[1], ctx, 'pack.exported', cjson.encode(data))
appendAudit(KEYS[2], ARGV[8], cjson.encode(entry))
return 1
