--[[
  Append events that are not part of another write (a job's failure, a summary of an erasure) to the
  workspace stream, and publish them.

  Input:
    KEYS[1] workspace event stream
    ARGV[1..5] event context (see includes/appendEvent.lua)
    ARGV[6] number of events n
    ARGV[7 .. 6+2n] pairs of type, data JSON

  Output: array of the new stream ids, in order
]]
--- @include "appendEvent"
local streamKey = KEYS[1]
local ctx = readEventContext()
local n = tonumber(ARGV[6])
local ids = {}
for i = 0, n - 1 do
  ids[#ids + 1] = appendEvent(streamKey, ctx, ARGV[7 + 2 * i], ARGV[8 + 2 * i])
end
return ids
