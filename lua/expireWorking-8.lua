--[[
  Expire a namespace's working entries whose TTL has passed (run by the maintenance sweeper; remember
  also purges its own namespace before adding).

  Input:
    KEYS[1] docs            KEYS[2] vecs
    KEYS[3] working entries of the namespace     KEYS[4] working expiry of the namespace
    KEYS[5] workspace expiry index               KEYS[6] stats
    KEYS[7] documents of the user (unused without a user)
    KEYS[8] workspace event stream
    ARGV[1..5] event context
    ARGV[6] now (ms)   ARGV[7] namespace key   ARGV[8] user_id ('' = none)   ARGV[9] agent_id ('' = none)

  Output: number of entries expired (each emits working.expired)
]]
--- @include "appendEvent"
--- @include "workingMemory"
local ctx = readEventContext()
local wm = { docs = KEYS[1], vecs = KEYS[2], entries = KEYS[3], expiry = KEYS[4], expiryIndex = KEYS[5],
  stats = KEYS[6], userDocs = KEYS[7], stream = KEYS[8] }
local userJson = ARGV[8] == '' and 'null' or cjson.encode(ARGV[8])
local agentJson = ARGV[9] == '' and 'null' or cjson.encode(ARGV[9])
local removed = purgeExpired(wm, ctx, tonumber(ARGV[6]), ARGV[7], userJson, agentJson)
refreshExpiryIndex(wm, ARGV[7])
return #removed
