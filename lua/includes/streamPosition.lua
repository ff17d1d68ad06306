--[[
  The counters of an event stream that readers use to place themselves: how many entries were ever added,
  how many are kept, and the first and last kept ids ('' when the stream is empty).
]]
local function streamPosition(streamKey)
  local info = redis.call('XINFO', 'STREAM', streamKey)
  local added, length, firstId, lastId = 0, 0, '', ''
  for i = 1, #info, 2 do
    local name = info[i]
    if name == 'entries-added' then added = info[i + 1]
    elseif name == 'length' then length = info[i + 1]
    elseif name == 'first-entry' and info[i + 1] then firstId = info[i + 1][1]
    elseif name == 'last-entry' and info[i + 1] then lastId = info[i + 1][1]
    end
  end
  return added, length, firstId, lastId
end
