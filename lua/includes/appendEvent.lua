--[[
  Event helpers shared by every write script. Each change is appended to the workspace stream and its
  envelope is published on the workspace channel in the same atomic script. The channel is a shard channel
  (SPUBLISH, Redis 7): its name carries the workspace's hash tag, so on a cluster the message stays on the
  shard that ran the script (and a script never publishes outside the slot of its keys).

  A script that emits events takes the event context as ARGV[1..5] (built by EventLog.contextArgs):
    ARGV[1] shard pub/sub channel of the workspace (same hash tag as the keys)
    ARGV[2] stream MAXLEN (approximate trimming)
    ARGV[3] workspace id
    ARGV[4] timestamp (ISO 8601) of the change
    ARGV[5] actor as a JSON object, e.g. {"type":"api_key","id":"key_..."}

  Stream entries hold `t` (the type, for filtering without parsing) and `e` (the envelope without its id);
  the envelope is {"id","type","ts","workspace","actor","data"}. Workspace ids and types never need escaping.
]]
local function readEventContext()
  return {
    channel = ARGV[1],
    maxlen = ARGV[2],
    head = '"ts":"' .. ARGV[4] .. '","workspace":"' .. ARGV[3] .. '","actor":' .. ARGV[5],
  }
end

-- Appends one event whose data is already JSON; returns the stream id.
local function appendEvent(streamKey, ctx, eventType, dataJson)
  local body = '"type":"' .. eventType .. '",' .. ctx.head .. ',"data":' .. dataJson .. '}'
  local id = redis.call('XADD', streamKey, 'MAXLEN', '~', ctx.maxlen, '*', 't', eventType, 'e', body)
  redis.call('SPUBLISH', ctx.channel, '{"id":"' .. id .. '",' .. body)
  return id
end
