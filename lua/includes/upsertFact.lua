--[[
  Store one extracted fact with deduplication and supersession (used by remember and addFacts).
  - Same fingerprint (namespace + subject + predicate + normalized object) as a current fact: the existing
    fact is confirmed (confirmations + 1, confidence raised to the new one if higher), nothing is added.
  - Otherwise every current fact holding one of the new fact's slots (a single-valued predicate such as
    `is`/`located_in`/`works_at`, or the same preference target) is superseded: status "superseded",
    valid_to and superseded_by set, and it stays stored as history.
  Fact documents hold only scalar fields (and an empty metadata object), so decoding and re-encoding them
  with cjson is lossless.

  `fk` is a table of key names: docs, vecs, facts, fingerprints, slots, stats, userDocs, stream, and
  trackUser (true when the facts belong to a user, whose document set is then kept for erasure).
  `fact` has: id, json, fingerprint, slots (table of strings), vector ('' = none), confidence, ts.
  Returns: id of the stored or confirmed fact, outcome ('added' | 'confirmed'), superseded ids (table).
]]
local function upsertFact(fk, ctx, nowIso, fact)
  local existingId = redis.call('HGET', fk.fingerprints, fact.fingerprint)
  if existingId then
    local raw = redis.call('HGET', fk.docs, existingId)
    if raw then
      local doc = cjson.decode(raw)
      if doc.status == 'current' then
        doc.confirmations = (tonumber(doc.confirmations) or 1) + 1
        doc.last_confirmed = nowIso
        if fact.confidence > (tonumber(doc.confidence) or 0) then doc.confidence = fact.confidence end
        redis.call('HSET', fk.docs, existingId, cjson.encode(doc))
        appendEvent(fk.stream, ctx, 'memory.fact.confirmed', cjson.encode({
          id = existingId, confirmations = doc.confirmations, confidence = doc.confidence,
          last_confirmed = nowIso, user_id = doc.user_id, agent_id = doc.agent_id }))
        return existingId, 'confirmed', {}
      end
    end
  end

  local superseded = {}
  for _, slot in ipairs(fact.slots) do
    local holder = redis.call('HGET', fk.slots, slot)
    if holder and holder ~= fact.id then
      local raw = redis.call('HGET', fk.docs, holder)
      if raw then
        local doc = cjson.decode(raw)
        if doc.status == 'current' then
          doc.status = 'superseded'
          doc.valid_to = nowIso
          doc.superseded_by = fact.id
          redis.call('HSET', fk.docs, holder, cjson.encode(doc))
          redis.call('HINCRBY', fk.stats, 'semantic', -1)
          superseded[#superseded + 1] = holder
          appendEvent(fk.stream, ctx, 'memory.fact.superseded', cjson.encode({
            id = holder, superseded_by = fact.id, valid_to = nowIso,
            user_id = doc.user_id, agent_id = doc.agent_id }))
        end
      end
    end
    redis.call('HSET', fk.slots, slot, fact.id)
  end

  redis.call('HSET', fk.docs, fact.id, fact.json)
  if fact.vector ~= '' then redis.call('HSET', fk.vecs, fact.id, fact.vector) end
  redis.call('ZADD', fk.facts, fact.ts, fact.id)
  redis.call('HSET', fk.fingerprints, fact.fingerprint, fact.id)
  if fk.trackUser then redis.call('SADD', fk.userDocs, fact.id) end
  redis.call('HINCRBY', fk.stats, 'semantic', 1)
  appendEvent(fk.stream, ctx, 'memory.fact.added', fact.json)
  return fact.id, 'added', superseded
end

-- Reads n facts from ARGV starting at index `first`, 6 arguments each:
-- id, json, fingerprint, slots joined by "\n" ('' = none), vector ('' = none), confidence.
local function readFacts(first, n, ts)
  local facts = {}
  for i = 0, n - 1 do
    local base = first + i * 6
    local slots = {}
    for slot in string.gmatch(ARGV[base + 3], '[^\n]+') do slots[#slots + 1] = slot end
    facts[#facts + 1] = { id = ARGV[base], json = ARGV[base + 1], fingerprint = ARGV[base + 2],
      slots = slots, vector = ARGV[base + 4], confidence = tonumber(ARGV[base + 5]), ts = ts }
  end
  return facts
end
