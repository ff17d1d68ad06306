--[[
  Engram documents in Lua, shared by every engram script. A script decodes a document (includes/docJson.lua),
  changes it, and stores it again with saveEngram. cjson writes an empty table as {}, so encodeDoc writes the
  named array fields as [] when they are empty; the client's unknown fields sit in the string field `ext`,
  which cjson never looks into, so they round-trip exactly. Every other field is a scalar or a small object
  of numbers (feedback_signals), which cjson keeps as they are. Events carry the document's public fields.
]]
--- @include "docJson"
local ENGRAM_ARRAYS = { tags = true, supersedes = true }

-- The decoded engram `id`, or nil when there is none (or the id names a document of another kind).
local function loadEngram(docsKey, id)
  local raw = redis.call('HGET', docsKey, id)
  if not raw then return nil end
  local doc = decodeDoc(raw)
  if not doc or doc.layer ~= 'engram' then return nil end
  return doc
end

-- Stores the document; appends one event per type with the document as data. Returns the JSON.
local function storeEngram(docsKey, streamKey, ctx, doc, eventTypes)
  local json = encodeDoc(doc, ENGRAM_ARRAYS)
  redis.call('HSET', docsKey, doc.id, json)
  if #eventTypes > 0 then
    local data = eventJsonOf(doc, ENGRAM_ARRAYS)
    for _, eventType in ipairs(eventTypes) do appendEvent(streamKey, ctx, eventType, data) end
  end
  return json
end

-- A change of the engram itself: new version and updated_at, then stored with its events.
local function saveEngram(docsKey, streamKey, ctx, doc, nowIso, eventTypes)
  doc.engram_version = (tonumber(doc.engram_version) or 1) + 1
  doc.updated_at = nowIso
  return storeEngram(docsKey, streamKey, ctx, doc, eventTypes)
end

local function round4(x)
  return math.floor(x * 10000 + 0.5) / 10000
end

-- Field of the duplicate index (scope + content hash), as engram-doc.ts dedupField builds it.
local function dedupFieldOf(doc)
  return doc.scope .. '\n' .. doc.content_hash
end
