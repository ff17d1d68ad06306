--[[
  Promote a candidate engram to active (POST /api/v1/engrams/{id}/promote). Its activation starts afresh,
  as the reference's promote does: retrieval strength 0.7, storage strength 1.0, last accessed today.

  Input:
    KEYS[1] docs   KEYS[2] workspace event stream   KEYS[3] audit stream of the organisation
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] id   ARGV[7] today (YYYY-MM-DD)
    ARGV[8] audit entry JSON ('' = none)   ARGV[9] audit stream MAXLEN

  Output: the document JSON; -1 no such engram; -3 it is not a candidate
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "appendAudit"
local ctx = readEventContext()
local doc = loadEngram(KEYS[1], ARGV[6])
if not doc then return -1 end
if doc.status ~= 'candidate' then return -3 end
doc.status = 'active'
doc.retrieval_strength = 0.7
doc.storage_strength = 1
doc.last_accessed = ARGV[7]
appendAudit(KEYS[3], ARGV[9], ARGV[8])
return saveEngram(KEYS[1], KEYS[2], ctx, doc, ARGV[4], { 'engram.promoted' })
