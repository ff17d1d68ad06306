--[[
  Forget the tenant's search-index snapshot: on erasure (a user's memories must not survive in a copy), a
  re-embed (its vectors are stale), or when a reader found it unreadable. Raises the floor to the stream's
  newest id, so a snapshot captured before this call (an instance writing one right now) can never be
  committed afterwards. With ARGV[1] = a generation, only that generation is dropped (a reader that found
  it broken must not drop a newer one committed meanwhile).

  Input:
    KEYS[1] the tenant's snapshot meta (HASH)   KEYS[2] the tenant's event stream
    ARGV[1] generation to drop, or '' for whatever is current

  Output: { gen, chunks, gen, chunks, ... }: the current and retiring generations, whose chunks the caller
          deletes; { } when ARGV[1] names a generation that is not the current one (nothing changed)
]]
--- @include "snapshotMeta"
local meta, stream = KEYS[1], KEYS[2]
local current = redis.call('HMGET', meta, 'gen', 'chunks', 'floor', 'retiring')
if ARGV[1] ~= '' and current[1] ~= ARGV[1] then return {} end

local floor = parseStreamId(current[3]) and current[3] or '0-0'
local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
if last and compareStreamIds(last[1], floor) > 0 then floor = last[1] end

local reply = {}
if current[1] and tonumber(current[2]) then
  reply[#reply + 1] = current[1]
  reply[#reply + 1] = tonumber(current[2])
end
for _, entry in ipairs(parseRetiring(current[4])) do
  reply[#reply + 1] = entry.gen
  reply[#reply + 1] = entry.chunks
end
redis.call('DEL', meta)
redis.call('HSET', meta, 'floor', floor)
return reply
