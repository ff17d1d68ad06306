--[[
  Read a workspace's events after an id, together with the stream's counters, in one round trip. The
  counters let readers detect that the stream was trimmed past their position: events added since a
  reader's last read = entries-added now - entries-added then; fewer delivered means some were trimmed.

  Input:
    KEYS[1] workspace event stream
    ARGV[1] exclusive start id ('0-0' for the beginning)
    ARGV[2] maximum number of entries (0 = only the counters)

  Output: { entries_added, length, first_id, last_id, entries }
    first_id/last_id are '' for an empty or missing stream; entries are { id, { 't', type, 'e', body } }.
]]
--- @include "streamPosition"
local streamKey = KEYS[1]
if redis.call('EXISTS', streamKey) == 0 then
  return { 0, 0, '', '', {} }
end
local added, length, firstId, lastId = streamPosition(streamKey)
local count = tonumber(ARGV[2])
if count == 0 then
  return { added, length, firstId, lastId, {} }
end
local entries = redis.call('XRANGE', streamKey, '(' .. ARGV[1], '+', 'COUNT', count)
return { added, length, firstId, lastId, entries }
