--[[
  Make a fully written search-index snapshot generation the tenant's current one (src/memory/search/
  snapshot-store.ts). Its chunks were stored first under their own generation's keys; this swaps the meta
  only when the new snapshot reflects a newer stream position than the current one (two instances that
  snapshot the same workspace: the newest wins, whatever order they finish in) and is not older than the
  floor erasure set (a snapshot captured before an erasure must never become current). At the same
  position, a snapshot with vector partitions replaces one without (the instance that partitioned the
  index writes it again: a restore then needs no k-means training). The displaced
  generation is moved to `retiring` (its chunks are expired by the caller after a grace period, so an
  instance still reading it finishes); entries of `retiring` past their time are dropped.

  Input:
    KEYS[1] the tenant's snapshot meta (HASH)
    ARGV[1] generation (16 hex digits)   ARGV[2] stream position (ms-seq) it reflects
    ARGV[3] number of chunks             ARGV[4] info (JSON, opaque here)   ARGV[5] grace ms
    ARGV[6] '1' when the snapshot holds vector partitions (optional)

  Output: { 1, { gen, chunks, gen, chunks, ... } of every retiring generation } when committed;
          { 0 } when the current snapshot is as new or newer, or the position is below the floor;
          -6 (invalid_input) on a malformed generation, position or count
]]
--- @include "snapshotMeta"
local meta = KEYS[1]
local gen, position, chunks, info = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local grace = tonumber(ARGV[5])
local partitioned = ARGV[6] == '1'
if not string.match(gen, '^%x+$') or not parseStreamId(position) or not chunks or chunks < 1 or not grace then
  return -6
end
local current = redis.call('HMGET', meta, 'gen', 'position', 'chunks', 'floor', 'retiring', 'partitioned')
if current[1] and parseStreamId(current[2]) then
  local order = compareStreamIds(position, current[2])
  if order < 0 or (order == 0 and not (partitioned and current[6] ~= '1')) then return { 0 } end
end
if parseStreamId(current[4]) and compareStreamIds(position, current[4]) < 0 then return { 0 } end

local now = nowMs()
local kept, reply = {}, {}
for _, entry in ipairs(parseRetiring(current[5])) do
  if entry.untilMs > now then
    kept[#kept + 1] = entry.gen .. ':' .. entry.chunks .. ':' .. entry.untilMs
    reply[#reply + 1] = entry.gen
    reply[#reply + 1] = entry.chunks
  end
end
if current[1] and current[1] ~= gen and tonumber(current[3]) then
  kept[#kept + 1] = current[1] .. ':' .. tonumber(current[3]) .. ':' .. (now + grace)
  reply[#reply + 1] = current[1]
  reply[#reply + 1] = tonumber(current[3])
end
redis.call('HSET', meta, 'gen', gen, 'position', position, 'chunks', chunks, 'info', info,
  'retiring', table.concat(kept, ','), 'partitioned', partitioned and '1' or '0')
return { 1, reply }
