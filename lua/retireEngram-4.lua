--[[
  Retire an engram (DELETE /api/v1/engrams/{id}): a soft delete. The document stays (status "retired") and
  leaves the duplicate index, so the same statement may be learned again. Retiring twice changes nothing
  (and is not audited again).

  Input:
    KEYS[1] docs   KEYS[2] engram duplicate index   KEYS[3] workspace event stream
    KEYS[4] audit stream of the organisation
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] id   ARGV[7] audit entry JSON ('' = none)   ARGV[8] audit stream MAXLEN

  Output: the document JSON; -1 when there is no such engram
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "appendAudit"
local ctx = readEventContext()
local doc = loadEngram(KEYS[1], ARGV[6])
if not doc then return -1 end
if doc.status == 'retired' then return redis.call('HGET', KEYS[1], ARGV[6]) end
local field = dedupFieldOf(doc)
if redis.call('HGET', KEYS[2], field) == doc.id then redis.call('HDEL', KEYS[2], field) end
doc.status = 'retired'
appendAudit(KEYS[4], ARGV[8], ARGV[7])
return saveEngram(KEYS[1], KEYS[3], ctx, doc, ARGV[4], { 'engram.retired' })
