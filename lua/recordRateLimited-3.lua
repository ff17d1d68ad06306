--[[
  Count one rate-limit rejection (a 429) of one engram-API credential, aggregated: the credential's
  counter for this minute goes up by one, and only its first increment writes the audit entry
  (`rate_limit.exceeded`), so a client hammering past its limit leaves one entry per minute, not one per
  429. The organisation's counter of the day (`rate_limited`) counts every rejection.

  Input:
    KEYS[1] the credential's rejections of this minute (STRING)
    KEYS[2] today's insight counters of the organisation (HASH)
    KEYS[3] audit stream of the organisation
    ARGV[1] audit entry JSON, written on the minute's first rejection
    ARGV[2] audit stream MAXLEN
    ARGV[3] time to live of the day's counters, in seconds
    ARGV[4] time to live of the minute's counter, in seconds

  Output: the rejections of this credential so far in this minute (1 when this call wrote the entry)
]]
--- @include "appendAudit"
local rcall = redis.call
local minuteKey, dayKey, auditKey = KEYS[1], KEYS[2], KEYS[3]
local dayTtl = tonumber(ARGV[3])
local minuteTtl = tonumber(ARGV[4])
if not dayTtl or not minuteTtl then return redis.error_reply('ERR time to live is not a number') end
-- Read phase: a key of the wrong type would fail a write halfway, so it is refused before the first one.
local dayType = rcall('TYPE', dayKey).ok
local minuteType = rcall('TYPE', minuteKey).ok
if (dayType ~= 'none' and dayType ~= 'hash') or (minuteType ~= 'none' and minuteType ~= 'string') then
  return redis.error_reply('WRONGTYPE insight counters hold another type')
end
local count = rcall('INCR', minuteKey)
if count == 1 then
  rcall('EXPIRE', minuteKey, minuteTtl)
  appendAudit(auditKey, ARGV[2], ARGV[1])
end
rcall('HINCRBY', dayKey, 'rate_limited', 1)
rcall('EXPIRE', dayKey, dayTtl)
return count
