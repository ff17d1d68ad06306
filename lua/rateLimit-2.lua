--[[
  Rate limit one request of one credential with GCRA (generic cell rate algorithm), over one or two
  buckets at once: a request is allowed only when every bucket allows it, and only then is it counted in
  each. A bucket of limit L per period P allows a burst of L and then one request every P/L.

  Input:
    KEYS[1] primary bucket (STRING: theoretical arrival time, microseconds)
    KEYS[2] secondary bucket, e.g. the write class (ignored when ARGV[3] is 0)
    ARGV[1] primary limit: requests per period (>= 1)
    ARGV[2] period in milliseconds
    ARGV[3] secondary limit (0 = no secondary bucket)

  Output: { allowed (1|0), limit, remaining, reset_ms, retry_after_ms }
    limit/remaining/reset_ms describe the tighter bucket; reset_ms is the time until that bucket is full
    again; retry_after_ms is 0 when allowed, else the wait until the request would be allowed.
]]
local rcall = redis.call
local primaryKey = KEYS[1]
local secondaryKey = KEYS[2]
local primaryLimit = tonumber(ARGV[1])
local periodUs = tonumber(ARGV[2]) * 1000
local secondaryLimit = tonumber(ARGV[3])

local time = rcall('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local function evaluate(key, limit)
  local interval = periodUs / limit
  local tat = tonumber(rcall('GET', key) or '0')
  if tat < now then tat = now end
  local newTat = tat + interval
  local allowed = (newTat - now) <= periodUs
  local remaining = 0
  local retryAfter = 0
  if allowed then
    remaining = math.floor((periodUs - (newTat - now)) / interval)
  else
    retryAfter = (newTat - periodUs) - now
    newTat = tat
  end
  return { key = key, limit = limit, allowed = allowed, newTat = newTat, remaining = remaining,
           reset = newTat - now, retryAfter = retryAfter }
end

local buckets = { evaluate(primaryKey, primaryLimit) }
if secondaryLimit > 0 then
  buckets[2] = evaluate(secondaryKey, secondaryLimit)
end

local allowed = true
local tight = buckets[1]
local retryAfter = 0
for _, b in ipairs(buckets) do
  if not b.allowed then
    allowed = false
    if b.retryAfter > retryAfter then retryAfter = b.retryAfter end
  end
  if b.remaining < tight.remaining then tight = b end
end
if not allowed then
  for _, b in ipairs(buckets) do
    if not b.allowed then tight = b end
  end
end

if allowed then
  for _, b in ipairs(buckets) do
    local ttlMs = math.ceil((b.newTat - now) / 1000) + 1000
    rcall('SET', b.key, string.format('%.0f', b.newTat), 'PX', ttlMs)
  end
end

return { allowed and 1 or 0, tight.limit, tight.remaining, math.ceil(tight.reset / 1000),
         math.ceil(retryAfter / 1000) }
