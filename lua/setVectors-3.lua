--[[
  Store vectors computed by a background embedding job, for documents that still exist, and announce them
  so every instance's index picks them up.

  Input:
    KEYS[1] docs   KEYS[2] vecs   KEYS[3] workspace event stream
    ARGV[1..5] event context
    ARGV[6] embedder name   ARGV[7] number of vectors n
    ARGV[8 .. 7+2n] pairs of document id, vector bytes

  Output: number of vectors stored (one memory.embedded event lists their ids when there were any)
]]
--- @include "appendEvent"
local ctx = readEventContext()
local n = tonumber(ARGV[7])
local stored = {}
for i = 0, n - 1 do
  local id = ARGV[8 + 2 * i]
  if redis.call('HEXISTS', KEYS[1], id) == 1 then
    redis.call('HSET', KEYS[2], id, ARGV[9 + 2 * i])
    stored[#stored + 1] = id
  end
end
if #stored > 0 then
  appendEvent(KEYS[3], ctx, 'memory.embedded', cjson.encode({ ids = stored, embedder = ARGV[6] }))
end
return #stored
