--[[
  Store extracted facts with deduplication and supersession (used by remember and addFacts).
  - Same fingerprint (namespace + subject + predicate + normalized object) as a current fact: the existing
    fact is confirmed (confirmations + 1, confidence raised to the new one if higher), nothing is added.
  - Otherwise every current fact holding one of the new fact's slots (a single-valued predicate such as
    `is`/`located_in`/`works_at`, or the same preference target) is superseded: status "superseded",
    valid_to and superseded_by set, and it stays stored as history.
  Each event carries the fact's whole public document (docJson.lua eventJsonOf), so a consumer applies it
  without reading Redis. Fact documents hold only scalar fields (and an empty metadata object), so decoding
  and re-encoding them with cjson is lossless.

  Two phases, so a script never stops half-way: readFacts decodes the new facts' documents (ARGV) and
  loadFactHolders decodes every stored fact the upserts may change, before the script's first write;
  upsertFact then only writes. `cache` maps fact id -> decoded document (false: not decodable, never
  changed); upsertFact adds each new fact to it, so a later fact of the same call sees it.

  `fk` is a table of key names: docs, vecs, facts, fingerprints, slots, stats, userDocs, stream, and
  trackUser (true when the facts belong to a user, whose document set is then kept for erasure).
  `fact` has: id, json, doc (decoded json), fingerprint, slots (table of strings), vector ('' = none),
  confidence, ts.
  Returns: id of the stored or confirmed fact, outcome ('added' | 'confirmed'), superseded ids (table).
]]
--- @include "docJson"
local FACT_ARRAYS = {}

-- Reads n facts from ARGV starting at index `first`, 6 arguments each:
-- id, json, fingerprint, slots joined by "\n" ('' = none), vector ('' = none), confidence.
-- Returns nil when an argument is not what the caller must send (the script then writes nothing).
local function readFacts(first, n, ts)
  if not n or not ts then return nil end
  local facts = {}
  for i = 0, n - 1 do
    local base = first + i * 6
    local doc = decodeDoc(ARGV[base + 1])
    local confidence = tonumber(ARGV[base + 5])
    if not doc or not confidence or not ARGV[base + 4] or ARGV[base] == '' or ARGV[base + 2] == '' then
      return nil
    end
    local slots = {}
    for slot in string.gmatch(ARGV[base + 3], '[^\n]+') do slots[#slots + 1] = slot end
    facts[#facts + 1] = { id = ARGV[base], json = ARGV[base + 1], doc = doc, fingerprint = ARGV[base + 2],
      slots = slots, vector = ARGV[base + 4], confidence = confidence, ts = ts }
  end
  return facts
end

-- Decodes the stored facts that hold the new facts' fingerprints and slots (the read phase).
local function loadFactHolders(fk, facts)
  local cache = {}
  for _, fact in ipairs(facts) do
    local ids = { redis.call('HGET', fk.fingerprints, fact.fingerprint) }
    for _, slot in ipairs(fact.slots) do ids[#ids + 1] = redis.call('HGET', fk.slots, slot) end
    for _, id in ipairs(ids) do
      if id and cache[id] == nil then cache[id] = decodeDoc(redis.call('HGET', fk.docs, id)) or false end
    end
  end
  return cache
end

local function upsertFact(fk, ctx, nowIso, fact, cache)
  local existingId = redis.call('HGET', fk.fingerprints, fact.fingerprint)
  local existing = existingId and cache[existingId]
  if existing and existing.status == 'current' then
    existing.confirmations = (tonumber(existing.confirmations) or 1) + 1
    existing.last_confirmed = nowIso
    if fact.confidence > (tonumber(existing.confidence) or 0) then existing.confidence = fact.confidence end
    redis.call('HSET', fk.docs, existingId, cjson.encode(existing))
    appendEvent(fk.stream, ctx, 'memory.fact.confirmed', eventJsonOf(existing, FACT_ARRAYS))
    return existingId, 'confirmed', {}
  end

  local superseded = {}
  for _, slot in ipairs(fact.slots) do
    local holder = redis.call('HGET', fk.slots, slot)
    local doc = holder and holder ~= fact.id and cache[holder]
    if doc and doc.status == 'current' then
      doc.status = 'superseded'
      doc.valid_to = nowIso
      doc.superseded_by = fact.id
      redis.call('HSET', fk.docs, holder, cjson.encode(doc))
      redis.call('HINCRBY', fk.stats, 'semantic', -1)
      superseded[#superseded + 1] = holder
      appendEvent(fk.stream, ctx, 'memory.fact.superseded', eventJsonOf(doc, FACT_ARRAYS))
    end
    redis.call('HSET', fk.slots, slot, fact.id)
  end

  redis.call('HSET', fk.docs, fact.id, fact.json)
  if fact.vector ~= '' then redis.call('HSET', fk.vecs, fact.id, fact.vector) end
  redis.call('ZADD', fk.facts, fact.ts, fact.id)
  redis.call('HSET', fk.fingerprints, fact.fingerprint, fact.id)
  if fk.trackUser then redis.call('SADD', fk.userDocs, fact.id) end
  redis.call('HINCRBY', fk.stats, 'semantic', 1)
  cache[fact.id] = fact.doc
  appendEvent(fk.stream, ctx, 'memory.fact.added', eventJsonOf(fact.doc, FACT_ARRAYS))
  return fact.id, 'added', superseded
end
