--[[
  Pin or unpin an engram (POST /api/v1/engrams/{id}/pin; admins only, checked by the caller) and write the
  audit entry in the same step. Setting the state it already has changes nothing but is still audited.

  Input:
    KEYS[1] docs   KEYS[2] workspace event stream   KEYS[3] audit stream of the organisation
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] id   ARGV[7] '1' pin | '0' unpin
    ARGV[8] audit entry JSON   ARGV[9] audit stream MAXLEN

  Output: the document JSON; -1 no such engram; -3 it is retired
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "appendAudit"
local ctx = readEventContext()
local doc = loadEngram(KEYS[1], ARGV[6])
if not doc then return -1 end
if doc.status == 'retired' then return -3 end
local pinned = ARGV[7] == '1'
appendAudit(KEYS[3], ARGV[9], ARGV[8])
if doc.pinned == pinned then return redis.call('HGET', KEYS[1], ARGV[6]) end
doc.pinned = pinned
return saveEngram(KEYS[1], KEYS[2], ctx, doc, ARGV[4], { pinned and 'engram.pinned' or 'engram.unpinned' })
