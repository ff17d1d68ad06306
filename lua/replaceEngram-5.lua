--[[
  Replace an engram with a new version computed by the caller (PATCH /api/v1/engrams/{id}), if it is still
  the version the caller read (compare-and-set on the SHA-1 of the stored JSON; the caller retries on -5).
  Keeps the duplicate index, the vector and the audit trail in step, and announces the change.

  Input:
    KEYS[1] docs   KEYS[2] vecs   KEYS[3] engram duplicate index   KEYS[4] workspace event stream
    KEYS[5] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6]  id
    ARGV[7]  SHA-1 (hex) of the document JSON the caller read
    ARGV[8]  new document JSON
    ARGV[9]  duplicate index field of the version read
    ARGV[10] duplicate index field of the new version ('' = none: it is retired)
    ARGV[11] vector: 'keep' | 'set' | 'drop' (statement changed and the vector comes later)
    ARGV[12] vector bytes (when 'set')
    ARGV[13] event types, comma-separated (each gets the new document's public fields as data)
    ARGV[14] audit entry JSON ('' = none)   ARGV[15] audit stream MAXLEN

  Output: the new document JSON; -1 no such engram; -5 it changed since it was read;
          -2 another live engram in the new scope has the same statement;
          -6 the new document is not JSON (nothing is written)
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "appendAudit"
local ctx = readEventContext()
local docs, vecs, hashes, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id = ARGV[6]
local raw = redis.call('HGET', docs, id)
local stored = raw and decodeDoc(raw)
if not stored or stored.layer ~= 'engram' then return -1 end
if redis.sha1hex(raw) ~= ARGV[7] then return -5 end
local newDoc = decodeDoc(ARGV[8])
if not newDoc then return -6 end

local oldField, newField = ARGV[9], ARGV[10]
if newField ~= '' then
  local holder = redis.call('HGET', hashes, newField)
  if holder and holder ~= id then
    local other = loadEngram(docs, holder)
    if other and other.status ~= 'retired' then return -2 end
  end
end
if redis.call('HGET', hashes, oldField) == id then redis.call('HDEL', hashes, oldField) end
if newField ~= '' then redis.call('HSET', hashes, newField, id) end

local json = ARGV[8]
redis.call('HSET', docs, id, json)
if ARGV[11] == 'set' then
  redis.call('HSET', vecs, id, ARGV[12])
elseif ARGV[11] == 'drop' then
  redis.call('HDEL', vecs, id)
end
local data = eventJsonOf(newDoc, ENGRAM_ARRAYS)
for eventType in string.gmatch(ARGV[13], '[^,]+') do appendEvent(stream, ctx, eventType, data) end
appendAudit(KEYS[5], ARGV[15], ARGV[14])
return json
