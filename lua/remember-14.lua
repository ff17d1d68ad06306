--[[
  Remember: write one memory to all three layers at once. Adds the working entry (evicting the namespace's
  lowest-importance, then oldest, entries beyond capacity and purging expired ones), appends the episode,
  and stores the extracted facts with deduplication and supersession. Every change appends its event.

  Input:
    KEYS[1]  docs (HASH id -> JSON document)
    KEYS[2]  vecs (HASH id -> float32 vector bytes)
    KEYS[3]  working entries of the namespace (ZSET importance -> id)
    KEYS[4]  working expiry of the namespace (ZSET expires_ms -> id)
    KEYS[5]  workspace expiry index (ZSET namespace -> earliest expiry)
    KEYS[6]  episodes (ZSET created_ms -> id)
    KEYS[7]  facts (ZSET created_ms -> id)
    KEYS[8]  fact fingerprints (HASH fingerprint -> fact id)
    KEYS[9]  fact slots (HASH slot -> current fact id)
    KEYS[10] stats (HASH working, episodic, semantic, last_write)
    KEYS[11] documents of the user (SET of ids, for erasure; unused without a user)
    KEYS[12] workspace event stream
    KEYS[13] agents (ZSET agent_id -> last write ms)
    KEYS[14] namespaces (ZSET namespace key -> last write ms)
    ARGV[1..5] event context (see includes/appendEvent.lua); ARGV[4] is also the write time
    ARGV[6]  now (ms)
    ARGV[7]  working capacity of the namespace
    ARGV[8]  working id         ARGV[9]  working document JSON   ARGV[10] importance
    ARGV[11] working expiry ms ('' = none)
    ARGV[12] episode id         ARGV[13] episode document JSON
    ARGV[14] namespace key      ARGV[15] user_id ('' = none)     ARGV[16] agent_id ('' = none)
    ARGV[17] working vector ('' = none)                          ARGV[18] episode vector ('' = none)
    ARGV[19] number of facts n, then 6 arguments per fact from ARGV[20] (see includes/upsertFact.lua)

  Output: { evicted ids, expired ids, { fact id, outcome, superseded ids }... };
          -6 when an argument is not what the caller must send (nothing is written)
]]
--- @include "appendEvent"
--- @include "workingMemory"
--- @include "upsertFact"
local ctx = readEventContext()
local nowIso = ARGV[4]
local nowMs = tonumber(ARGV[6])
local capacity = tonumber(ARGV[7])
local importance = tonumber(ARGV[10])
local expiresMs = ARGV[11] ~= '' and tonumber(ARGV[11]) or nil
local nsKey = ARGV[14]
local user = ARGV[15]
local agent = ARGV[16]
local userJson = user == '' and 'null' or cjson.encode(user)
local agentJson = agent == '' and 'null' or cjson.encode(agent)

local wm = { docs = KEYS[1], vecs = KEYS[2], entries = KEYS[3], expiry = KEYS[4], expiryIndex = KEYS[5],
  stats = KEYS[10], userDocs = KEYS[11], stream = KEYS[12] }
local fk = { docs = KEYS[1], vecs = KEYS[2], facts = KEYS[7], fingerprints = KEYS[8], slots = KEYS[9],
  stats = KEYS[10], userDocs = KEYS[11], stream = KEYS[12], trackUser = user ~= '' }

-- Read phase: every argument checked and every document decoded before the first write.
local facts = readFacts(20, tonumber(ARGV[19]), nowMs)
if not facts or not capacity or not importance or (ARGV[11] ~= '' and not expiresMs) then return -6 end
local factCache = loadFactHolders(fk, facts)

-- Working memory: purge expired, make room, add.
local expired = purgeExpired(wm, ctx, nowMs, nsKey, userJson, agentJson)
local evicted = {}
while redis.call('ZCARD', wm.entries) >= capacity do
  local popped = redis.call('ZPOPMIN', wm.entries)
  local id = popped[1]
  if not id then break end
  if dropWorkingEntry(wm, id) then
    evicted[#evicted + 1] = id
    appendEvent(wm.stream, ctx, 'working.evicted',
      '{"id":' .. cjson.encode(id) .. ',"layer":"working","reason":"capacity","user_id":' .. userJson ..
      ',"agent_id":' .. agentJson .. '}')
  end
end
local workingId = ARGV[8]
redis.call('HSET', wm.docs, workingId, ARGV[9])
if ARGV[17] ~= '' then redis.call('HSET', wm.vecs, workingId, ARGV[17]) end
redis.call('ZADD', wm.entries, importance, workingId)
if expiresMs then
  redis.call('ZADD', wm.expiry, expiresMs, workingId)
  refreshExpiryIndex(wm, nsKey)
end
redis.call('HINCRBY', wm.stats, 'working', 1)
appendEvent(wm.stream, ctx, 'memory.working.added', ARGV[9])

-- Episode.
local episodeId = ARGV[12]
redis.call('HSET', KEYS[1], episodeId, ARGV[13])
if ARGV[18] ~= '' then redis.call('HSET', KEYS[2], episodeId, ARGV[18]) end
redis.call('ZADD', KEYS[6], nowMs, episodeId)
redis.call('HINCRBY', KEYS[10], 'episodic', 1)
appendEvent(wm.stream, ctx, 'memory.episode.added', ARGV[13])

-- Bookkeeping.
if user ~= '' then redis.call('SADD', wm.userDocs, workingId, episodeId) end
if agent ~= '' then redis.call('ZADD', KEYS[13], nowMs, agent) end
redis.call('ZADD', KEYS[14], nowMs, nsKey)
redis.call('HSET', KEYS[10], 'last_write', nowIso)

-- Facts.
local results = {}
for _, fact in ipairs(facts) do
  local id, outcome, superseded = upsertFact(fk, ctx, nowIso, fact, factCache)
  results[#results + 1] = { id, outcome, superseded }
end

local out = { evicted, expired }
for _, r in ipairs(results) do out[#out + 1] = r end
return out
