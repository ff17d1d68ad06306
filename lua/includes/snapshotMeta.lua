--[[
  Shared by the index-snapshot scripts: stream ids compared as (ms, seq) numbers, and the `retiring` field
  of a snapshot meta HASH ("gen:chunks:untilMs" entries separated by commas: displaced generations whose
  chunks expire at untilMs, kept so erasure can delete them at once).
]]
local function parseStreamId(id)
  local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
  if not ms then return nil end
  return tonumber(ms), tonumber(seq)
end

-- 1 when a > b, 0 when equal, -1 when a < b (both valid ids).
local function compareStreamIds(a, b)
  local ams, aseq = parseStreamId(a)
  local bms, bseq = parseStreamId(b)
  if ams ~= bms then return ams > bms and 1 or -1 end
  if aseq ~= bseq then return aseq > bseq and 1 or -1 end
  return 0
end

local function parseRetiring(field)
  local out = {}
  for gen, chunks, untilMs in string.gmatch(field or '', '(%x+):(%d+):(%d+)') do
    out[#out + 1] = { gen = gen, chunks = tonumber(chunks), untilMs = tonumber(untilMs) }
  end
  return out
end

local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
