--[[
  Uninstall a pack (DELETE /api/v1/packs/{name}): every engram it installed that is still live is retired
  (it leaves the duplicate index, recall and inject; engram.retired each), the pack's record and engram
  list are removed, and pack.uninstalled and the audit entry are appended, in one step.

  Input:
    KEYS[1] docs   KEYS[2] engram duplicate index   KEYS[3] packs (HASH name -> JSON record)
    KEYS[4] this pack's engrams (HASH id -> fingerprint)   KEYS[5] workspace event stream
    KEYS[6] audit stream of the organisation
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] pack name   ARGV[7] audit entry JSON   ARGV[8] audit stream MAXLEN

  Output: { record JSON, removed }; -1 when no pack of that name is installed; -6 when the audit entry is
          not a JSON object (nothing is written)
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "appendAudit"
local ctx = readEventContext()
local entry = decodeDoc(ARGV[7])
if not entry then return -6 end
local existing = redis.call('HGET', KEYS[3], ARGV[6])
if not existing then return -1 end
local record = decodeDoc(existing) or {}
local removed = 0
for _, id in ipairs(redis.call('HKEYS', KEYS[4])) do
  local doc = loadEngram(KEYS[1], id)
  if doc and doc.status ~= 'retired' then
    local field = dedupFieldOf(doc)
    if redis.call('HGET', KEYS[2], field) == id then redis.call('HDEL', KEYS[2], field) end
    doc.status = 'retired'
    saveEngram(KEYS[1], KEYS[5], ctx, doc, ARGV[4], { 'engram.retired' })
    removed = removed + 1
  end
end
redis.call('HDEL', KEYS[3], ARGV[6])
redis.call('DEL', KEYS[4])
appendEvent(KEYS[5], ctx, 'pack.uninstalled', cjson.encode({
  name = ARGV[6], version = record.version, scope = record.scope, removed = removed,
}))
if type(entry.payload) == 'table' then entry.payload.removed = removed end
appendAudit(KEYS[6], ARGV[8], cjson.encode(entry))
return { existing, removed }
