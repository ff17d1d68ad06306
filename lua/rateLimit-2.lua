--[[
  Rate limit one request of one credential with an exact sliding log, over one or two buckets at once:
  a request is allowed only when every bucket allows it, and only then is it counted in each.

  Rule (and why it holds): a bucket is a ZSET of the times (Redis TIME, microseconds) of the requests it
  allowed. A request at `now` first drops every entry at or before now - P, so what is left is exactly
  the allowed requests of the window (now - P, now]; it is allowed only if fewer than L are left, and is
  then added. So every window of length P that ends at an allowed request holds at most L allowed
  requests, and any window of length P holds at most as many as the one ending at its last allowed
  request: no window of length P ever holds more than L, across all instances, because the check and
  the insert are one atomic script. (GCRA, used before, allows a burst of L plus refill: ~2L per P.)

  Cost: one ZSET entry (~60-100 bytes) per allowed request still inside the window, so O(L) memory per
  active credential and bucket, and O(log L) time per request; idle buckets expire after P.

  Input:
    KEYS[1] primary bucket (ZSET: member = allowed request, score = its time in microseconds)
    KEYS[2] secondary bucket, e.g. the write class (ignored when ARGV[3] is 0)
    ARGV[1] primary limit: requests per period (>= 1)
    ARGV[2] period in milliseconds
    ARGV[3] secondary limit (0 = no secondary bucket)

  Output: { allowed (1|0), limit, remaining, reset_ms, retry_after_ms }
    limit/remaining/reset_ms describe the tighter bucket (the refusing one when refused); reset_ms is the
    time until that bucket is empty again (its newest entry leaves the window); retry_after_ms is 0 when
    allowed, else the wait until every refusing bucket has a free slot.
]]
local rcall = redis.call
local primaryKey = KEYS[1]
local secondaryKey = KEYS[2]
local primaryLimit = tonumber(ARGV[1])
local periodMs = tonumber(ARGV[2])
local periodUs = periodMs * 1000
local secondaryLimit = tonumber(ARGV[3])

local time = rcall('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local function scoreAt(key, index)
  local entry = rcall('ZRANGE', key, index, index, 'WITHSCORES')
  return tonumber(entry[2])
end

local function evaluate(key, limit)
  rcall('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - periodUs))
  local count = rcall('ZCARD', key)
  local b = { key = key, limit = limit, allowed = count < limit, remaining = 0, reset = 0, retryAfter = 0 }
  if b.allowed then
    b.remaining = limit - count - 1
    b.reset = periodUs -- the request about to be added is the newest entry
  else
    -- A slot frees when the entry `limit` places before the newest one leaves the window.
    b.retryAfter = scoreAt(key, count - limit) + periodUs - now
    b.reset = scoreAt(key, -1) + periodUs - now
  end
  return b
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
  local score = string.format('%.0f', now)
  for _, b in ipairs(buckets) do
    -- TIME can repeat within one microsecond: the member must stay unique, the score is what counts.
    local member = score
    local n = 0
    while rcall('ZADD', b.key, 'NX', score, member) == 0 do
      n = n + 1
      member = score .. '-' .. n
    end
    rcall('PEXPIRE', b.key, periodMs + 1000)
  end
end

return { allowed and 1 or 0, tight.limit, tight.remaining, math.ceil(tight.reset / 1000),
         math.ceil(retryAfter / 1000) }
