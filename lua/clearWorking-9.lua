--[[
  Clear one namespace's working memory (DELETE /v1/memory, and each namespace of an erased user). The
  namespace leaves the workspace's namespace list in the same step: remember puts it back atomically with
  its next entry, so a namespace that has working entries is always listed (erasure relies on it).

  Input:
    KEYS[1] docs            KEYS[2] vecs
    KEYS[3] working entries of the namespace     KEYS[4] working expiry of the namespace
    KEYS[5] workspace expiry index               KEYS[6] stats
    KEYS[7] documents of the user (unused without a user)
    KEYS[8] workspace event stream
    KEYS[9] namespaces of the workspace (ZSET namespace key -> last write ms)
    ARGV[1..5] event context
    ARGV[6] namespace key   ARGV[7] user_id ('' = none)   ARGV[8] agent_id ('' = none)

  Output: number of entries deleted (one working.cleared event lists their ids when there were any)
]]
--- @include "appendEvent"
--- @include "workingMemory"
local ctx = readEventContext()
local wm = { docs = KEYS[1], vecs = KEYS[2], entries = KEYS[3], expiry = KEYS[4], expiryIndex = KEYS[5],
  stats = KEYS[6], userDocs = KEYS[7], stream = KEYS[8] }
local ids = redis.call('ZRANGE', wm.entries, 0, -1)
local deleted = {}
for _, id in ipairs(ids) do
  if dropWorkingEntry(wm, id) then deleted[#deleted + 1] = id end
end
redis.call('DEL', wm.entries, wm.expiry)
redis.call('ZREM', wm.expiryIndex, ARGV[6])
redis.call('ZREM', KEYS[9], ARGV[6])
if #deleted > 0 then
  local user = ARGV[7] == '' and cjson.null or ARGV[7]
  local agent = ARGV[8] == '' and cjson.null or ARGV[8]
  appendEvent(wm.stream, ctx, 'working.cleared', cjson.encode({ ids = deleted, count = #deleted,
    layer = 'working', user_id = user, agent_id = agent }))
end
return #deleted
