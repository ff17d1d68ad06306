--[[
  Read a workspace's events after an id for a reader that is usually up to date (the search index before
  every query): when nothing follows the id, answer at once without reading the stream's counters; else
  answer like readEvents-1, counters included, so the reader can detect trimming.

  Input:
    KEYS[1] workspace event stream
    ARGV[1] exclusive start id ('0-0' for the beginning)
    ARGV[2] maximum number of entries (>= 1)

  Output: { 0 } when there is nothing after the id;
          else { 1, entries_added, length, first_id, last_id, entries }, entries being { id, { 't', type, 'e', body } }
]]
--- @include "streamPosition"
local streamKey = KEYS[1]
local entries = redis.call('XRANGE', streamKey, '(' .. ARGV[1], '+', 'COUNT', tonumber(ARGV[2]))
if #entries == 0 then
  return { 0 }
end
local added, length, firstId, lastId = streamPosition(streamKey)
return { 1, added, length, firstId, lastId, entries }
