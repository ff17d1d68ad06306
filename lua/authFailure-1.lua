--[[
  Count one failed authentication of one client address against its budget (GCRA): a burst of ARGV[1]
  failures, then one more every ARGV[2] milliseconds. Only failures are counted; a refused failure is not
  (an address that keeps guessing while blocked does not push its unblocking further out).

  Input:
    KEYS[1] the address's bucket (STRING: theoretical arrival time, milliseconds)
    ARGV[1] burst: failures allowed back to back (>= 1)
    ARGV[2] refill interval in milliseconds (>= 1)

  Output: { allowed (1|0), retry_after_ms }
    allowed 1: the failure is counted and answered 401; 0: the address is over its budget, answer 429 and
    retry after retry_after_ms.
]]
local rcall = redis.call
local bucketKey = KEYS[1]
local burst = tonumber(ARGV[1])
local intervalMs = tonumber(ARGV[2])

local time = rcall('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = burst * intervalMs

local tat = tonumber(rcall('GET', bucketKey) or '0')
if tat < now then tat = now end
local newTat = tat + intervalMs
if newTat - now > window then
  return { 0, newTat - window - now }
end
rcall('SET', bucketKey, string.format('%.0f', newTat), 'PX', newTat - now + 1000)
return { 1, 0 }
