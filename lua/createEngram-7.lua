--[[
  Create an engram (POST /api/v1/engrams): assign its id, store it with its vector, index its statement for
  duplicates, announce it, and audit it when it is created pinned; or, for the same statement in the same
  scope, count the re-learn on the existing engram instead (see includes/createEngram.lua).

  Input:
    KEYS[1] docs (HASH id -> JSON document)
    KEYS[2] vecs (HASH id -> float32 vector bytes)
    KEYS[3] engram duplicate index (HASH "<scope>\n<content hash>" -> id)
    KEYS[4] today's engram id counter (STRING)
    KEYS[5] workspace event stream
    KEYS[6] audit stream of the organisation
    KEYS[7] today's insight counters of the organisation (HASH; `learn` + 1 when the engram is created)
    ARGV[1..5] event context (see includes/appendEvent.lua); ARGV[4] is also the write time
    ARGV[6] client-chosen id ('' = assign ENG-<day>-NNN)
    ARGV[7] document JSON without its id
    ARGV[8] duplicate index field
    ARGV[9] vector ('' = none)
    ARGV[10] day (YYYY-MM-DD, UTC)
    ARGV[11] audit entry JSON, written with the new id as its target when the engram is created ('' = none)
    ARGV[12] audit stream MAXLEN
    ARGV[13] time to live of the insight counters, in seconds

  Output: { id, 'created' | 'duplicate', document JSON }; -2 when the client-chosen id exists;
          -6 when the document or the audit entry is not JSON (nothing is written)
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "createEngram"
--- @include "appendAudit"
local ctx = readEventContext()
-- Read phase: both JSON arguments decoded before the first write.
local body = decodeDoc(ARGV[7])
local entry = ARGV[11] ~= '' and decodeDoc(ARGV[11]) or nil
if not body or (ARGV[11] ~= '' and not entry) then return -6 end
local counterType = redis.call('TYPE', KEYS[7]).ok
if counterType ~= 'none' and counterType ~= 'hash' then
  return redis.error_reply('WRONGTYPE the insight counters of the day are not a hash')
end
local ek = { docs = KEYS[1], vecs = KEYS[2], hashes = KEYS[3], seq = KEYS[4], stream = KEYS[5] }
local id, outcome, json = createEngram(ek, ctx, { clientId = ARGV[6], body = ARGV[7], doc = body,
  dedupField = ARGV[8], vector = ARGV[9], day = ARGV[10], nowIso = ARGV[4] })
if id == -2 then return -2 end
if outcome == 'created' and entry then
  entry.target = { type = 'engram', id = id }
  appendAudit(KEYS[6], ARGV[12], cjson.encode(entry))
end
if outcome == 'created' then
  redis.call('HINCRBY', KEYS[7], 'learn', 1)
  redis.call('EXPIRE', KEYS[7], tonumber(ARGV[13]) or 8640000)
end
return { id, outcome, json }
