--[[
  Store facts found after the fact (the LLM extraction job), with the same deduplication and supersession
  as remember. Rule: facts of an episode that no longer exists are dropped (the job finished after the
  episode was forgotten or its user erased), so erasure is never undone by a late job.

  Input:
    KEYS[1] docs   KEYS[2] vecs   KEYS[3] facts   KEYS[4] fact fingerprints   KEYS[5] fact slots
    KEYS[6] stats  KEYS[7] documents of the user (unused without a user)
    KEYS[8] workspace event stream
    ARGV[1..5] event context
    ARGV[6] now (ms)   ARGV[7] user_id ('' = none)
    ARGV[8] source episode id ('' = none to check)
    ARGV[9] number of facts n, then 6 arguments per fact from ARGV[10] (see includes/upsertFact.lua)

  Output: { { fact id, outcome, superseded ids }... }, empty when the source episode is gone;
          -6 when an argument is not what the caller must send (nothing is written)
]]
--- @include "appendEvent"
--- @include "upsertFact"
if ARGV[8] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[8]) == 0 then
  return {}
end
local ctx = readEventContext()
local fk = { docs = KEYS[1], vecs = KEYS[2], facts = KEYS[3], fingerprints = KEYS[4], slots = KEYS[5],
  stats = KEYS[6], userDocs = KEYS[7], stream = KEYS[8], trackUser = ARGV[7] ~= '' }
-- Read phase: every document decoded before the first write.
local facts = readFacts(10, tonumber(ARGV[9]), tonumber(ARGV[6]))
if not facts then return -6 end
local factCache = loadFactHolders(fk, facts)
local out = {}
for _, fact in ipairs(facts) do
  local id, outcome, superseded = upsertFact(fk, ctx, ARGV[4], fact, factCache)
  out[#out + 1] = { id, outcome, superseded }
end
redis.call('HSET', KEYS[6], 'last_write', ARGV[4])
return out
