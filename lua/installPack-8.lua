--[[
  Install a pack (POST /api/v1/packs) in one step: every engram of the pack is created with a server id,
  its vector and its entry in the duplicate index, the pack's record and the list of its engrams are
  written, and engram.created (one per engram), pack.installed and the audit entry are appended. Nothing is
  visible before the script ends, and a refusal writes nothing.
  - A pack of that name with the same integrity is already installed: nothing changes ('unchanged').
  - One with another integrity: -2, unless ARGV[7] is 'upgrade', which first retires the old version's
    engrams (engram.retired each) and then installs the new one ('upgraded').
  - An engram whose statement is already live in its scope (or earlier in the pack) is a duplicate: it is
    counted and not installed.

  Input:
    KEYS[1] docs (HASH id -> JSON document)        KEYS[2] vecs (HASH id -> float32 vector bytes)
    KEYS[3] engram duplicate index                 KEYS[4] today's engram id counter (STRING)
    KEYS[5] packs (HASH name -> JSON record)       KEYS[6] this pack's engrams (HASH id -> fingerprint)
    KEYS[7] workspace event stream                 KEYS[8] audit stream of the organisation
    ARGV[1..5] event context (see includes/appendEvent.lua); ARGV[4] is also the write time
    ARGV[6] pack name   ARGV[7] 'install' | 'upgrade'   ARGV[8] integrity of the new version
    ARGV[9] pack record JSON (an object; engram_count and duplicates are added here)
    ARGV[10] day (YYYY-MM-DD, UTC)   ARGV[11] audit entry JSON   ARGV[12] audit stream MAXLEN
    ARGV[13] number of engrams N; then N groups of 4 from ARGV[14]: document JSON without its id,
             duplicate index field, vector ('' = none), fingerprint (for integrity_status)

  Output: { 'installed' | 'upgraded' | 'unchanged', record JSON, installed, duplicates, retired, ids... };
          -2 when another version is installed and this is no upgrade;
          -6 when a JSON argument is not an object or the engram count is wrong (nothing is written)
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "appendAudit"
local ctx = readEventContext()
local docsKey, vecsKey, hashesKey, seqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local packsKey, packEngramsKey, streamKey = KEYS[5], KEYS[6], KEYS[7]
local name, mode, integrity = ARGV[6], ARGV[7], ARGV[8]
local SEQ_TTL_SECONDS = 3 * 86400

-- Read phase: every JSON argument decoded before the first write.
local record = decodeDoc(ARGV[9])
local entry = decodeDoc(ARGV[11])
local count = tonumber(ARGV[13])
if not record or not entry or not count or #ARGV ~= 13 + 4 * count then return -6 end
local docs = {}
for i = 1, count do
  local doc = decodeDoc(ARGV[10 + 4 * i])
  if not doc then return -6 end
  docs[i] = doc
end

local outcome = 'installed'
local retired = 0
local existing = redis.call('HGET', packsKey, name)
if existing then
  local old = decodeDoc(existing)
  if old and old.integrity == integrity then return { 'unchanged', existing, 0, 0, 0 } end
  if mode ~= 'upgrade' then return -2 end
  outcome = 'upgraded'
  for _, id in ipairs(redis.call('HKEYS', packEngramsKey)) do
    local doc = loadEngram(docsKey, id)
    if doc and doc.status ~= 'retired' then
      local field = dedupFieldOf(doc)
      if redis.call('HGET', hashesKey, field) == id then redis.call('HDEL', hashesKey, field) end
      doc.status = 'retired'
      saveEngram(docsKey, streamKey, ctx, doc, ARGV[4], { 'engram.retired' })
      retired = retired + 1
    end
  end
  redis.call('DEL', packEngramsKey)
end

local installed, duplicates = 0, 0
local ids = {}
for i = 1, count do
  local base = 10 + 4 * i
  local field = ARGV[base + 1]
  local liveId = redis.call('HGET', hashesKey, field)
  local live = liveId and loadEngram(docsKey, liveId)
  if live and live.status ~= 'retired' then
    duplicates = duplicates + 1
  else
    local id
    repeat
      local n = redis.call('INCR', seqKey)
      if n == 1 then redis.call('EXPIRE', seqKey, SEQ_TTL_SECONDS) end
      id = string.format('ENG-%s-%03d', ARGV[10], n)
    until redis.call('HEXISTS', docsKey, id) == 0
    redis.call('HSET', docsKey, id, '{"id":' .. cjson.encode(id) .. ',' .. string.sub(ARGV[base], 2))
    if ARGV[base + 2] ~= '' then redis.call('HSET', vecsKey, id, ARGV[base + 2]) end
    redis.call('HSET', hashesKey, field, id)
    redis.call('HSET', packEngramsKey, id, ARGV[base + 3])
    local doc = docs[i]
    doc.id = id
    appendEvent(streamKey, ctx, 'engram.created', eventJsonOf(doc, ENGRAM_ARRAYS))
    installed = installed + 1
    ids[#ids + 1] = id
  end
end

local stored = '{"engram_count":' .. installed .. ',"duplicates":' .. duplicates .. ',' .. string.sub(ARGV[9], 2)
redis.call('HSET', packsKey, name, stored)
appendEvent(streamKey, ctx, 'pack.installed', cjson.encode({
  name = name, version = record.version, scope = record.scope, integrity = integrity,
  installed = installed, duplicates = duplicates, upgraded = outcome == 'upgraded', retired = retired,
}))
if type(entry.payload) == 'table' then
  entry.payload.installed = installed
  entry.payload.duplicates = duplicates
  entry.payload.retired = retired
end
appendAudit(KEYS[8], ARGV[12], cjson.encode(entry))
local reply = { outcome, stored, installed, duplicates, retired }
for _, id in ipairs(ids) do reply[#reply + 1] = id end
return reply
